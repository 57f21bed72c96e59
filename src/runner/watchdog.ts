/**
 * A thread beside the runner's main thread that finds out where user code
 * hangs or exhausts memory. When a problem overruns its time, it pauses the
 * main thread through the inspector (this interrupts even a tight loop); near
 * the heap limit V8 pauses an inspected thread by itself. The paused frames
 * are mapped through the bundle's source map to the user's file and line and
 * written to the parent on their own pipe: the main thread is stuck and cannot.
 * This module is the main thread's handle; the thread is watchdog-thread.ts.
 */
import { Worker } from 'node:worker_threads';
import type { SourceLocation } from '../core/errors';

/** File descriptor of the pipe to the parent (stdio index 4 of the runner process). */
export const HANG_REPORT_FD = 4;

export interface HangReport {
  /** Over time, or out of memory (V8 pauses an inspected isolate near its heap limit, reason 'OOM'). */
  reason: 'timeout' | 'memory';
  problem: string;
  /** The place in the user's code, when the paused stack reached it. */
  location: SourceLocation | null;
  /** The user function that was running (`f`, `grad`, ...). */
  functionName: string | null;
}

export type WatchdogMessage =
  | { type: 'bundle'; file: string; sourceMap: string; sources: string[] }
  | { type: 'arm'; problem: string; milliseconds: number }
  | { type: 'disarm' };

/** Main-thread handle. */
export class Watchdog {
  private readonly thread: Worker;

  /** @param entry the thread's script, dist/watchdog.js */
  constructor(entry: string) {
    this.thread = new Worker(entry);
    this.thread.unref();
  }

  private post(message: WatchdogMessage): void {
    this.thread.postMessage(message);
  }

  bundle(file: string, code: string, sources: string[]): void {
    const inline = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
    if (inline) this.post({ type: 'bundle', file, sourceMap: Buffer.from(inline[1], 'base64').toString('utf8'), sources });
  }

  arm(problem: string, milliseconds: number): void {
    this.post({ type: 'arm', problem, milliseconds });
  }

  disarm(): void {
    this.post({ type: 'disarm' });
  }
}
