/**
 * A thread beside the runner's main thread that finds out where user code
 * hangs or exhausts memory. When a problem overruns its time, it pauses the
 * main thread through the inspector (this interrupts even a tight loop); near
 * the heap limit V8 pauses an inspected thread by itself. The paused frames
 * are mapped through the bundle's source map to the user's file and line and
 * written to the parent on their own pipe: the main thread is stuck and cannot.
 */
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

/** File descriptor of the pipe to the parent (stdio index 4 of the runner process). */
export const HANG_REPORT_FD = 4;

export interface HangReport {
  /** Over time, or out of memory (V8 pauses an inspected isolate near its heap limit, reason 'OOM'). */
  reason: 'timeout' | 'memory';
  problem: string;
  /** `file:line:column` in the user's code, when the paused stack reached it. */
  location: string | null;
  /** The user function that was running (`f`, `grad`, ...). */
  functionName: string | null;
}

type WatchdogMessage =
  | { type: 'bundle'; file: string; sourceMap: string; sources: string[]; cwd: string }
  | { type: 'arm'; problem: string; milliseconds: number }
  | { type: 'disarm' };

/** Main-thread handle. */
export class Watchdog {
  private readonly thread: Worker;

  constructor(entry: string) {
    this.thread = new Worker(entry, { workerData: { watchdog: true } });
    this.thread.unref();
  }

  private post(message: WatchdogMessage): void {
    this.thread.postMessage(message);
  }

  bundle(file: string, code: string, sources: string[]): void {
    const inline = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
    if (inline) this.post({ type: 'bundle', file, sourceMap: Buffer.from(inline[1], 'base64').toString('utf8'), sources, cwd: process.cwd() });
  }

  arm(problem: string, milliseconds: number): void {
    this.post({ type: 'arm', problem, milliseconds });
  }

  disarm(): void {
    this.post({ type: 'disarm' });
  }
}

/** Runs inside the watchdog thread. */
export function runWatchdogThread(): void {
  if (isMainThread || !parentPort) return;
  const session = new inspector.Session();
  session.connectToMainThread();
  const scripts = new Map<string, string>();
  let map: { file: string; sourceMap: SourceMap; sources: string[]; cwd: string } | null = null;
  let timer: NodeJS.Timeout | undefined;
  let armedFor: string | null = null;
  // Keeps this thread alive; the thread itself is unref'd, so it never keeps the process alive.
  setInterval(() => undefined, 60_000);

  const report = (hang: HangReport): void => {
    try {
      fs.writeSync(HANG_REPORT_FD, `${JSON.stringify(hang)}\n`);
    } catch {
      // No pipe (run outside the runner): the parent's own time limit still applies.
    }
  };
  session.on('Debugger.scriptParsed', (message) => {
    scripts.set(message.params.scriptId, message.params.url);
  });
  session.on('Debugger.paused', (message) => {
    const reason = message.params.reason === 'OOM' ? 'memory' : 'timeout';
    const problem = armedFor ?? '';
    armedFor = null;
    clearTimeout(timer);
    let hang: HangReport = { reason, problem, location: null, functionName: null };
    for (const frame of message.params.callFrames) {
      const url = scripts.get(frame.location.scriptId) ?? frame.url;
      if (!map || (url !== map.file && url !== `file://${map.file}`)) continue;
      const entry = map.sourceMap.findEntry(frame.location.lineNumber, frame.location.columnNumber ?? 0) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (entry.originalSource === undefined || entry.originalLine === undefined) continue;
      const source = path.resolve(path.dirname(map.file), entry.originalSource.replace(/^file:\/\//, ''));
      if (!map.sources.includes(source)) continue;
      const relative = path.relative(map.cwd, source);
      hang = {
        reason,
        problem,
        location: `${relative.startsWith('..') ? source : relative}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`,
        functionName: frame.functionName || null,
      };
      break;
    }
    report(hang);
  });
  session.post('Debugger.enable');

  parentPort.on('message', (message: WatchdogMessage) => {
    switch (message.type) {
      case 'bundle':
        map = { file: message.file, sourceMap: new SourceMap(JSON.parse(message.sourceMap)), sources: message.sources, cwd: message.cwd };
        break;
      case 'arm':
        clearTimeout(timer);
        armedFor = message.problem;
        timer = setTimeout(() => {
          session.post('Debugger.pause');
          // Waiting on a promise is not running code: nothing pauses, so report without a place.
          setTimeout(() => {
            if (armedFor !== null) report({ reason: 'timeout', problem: armedFor, location: null, functionName: null });
            armedFor = null;
          }, 500);
        }, message.milliseconds);
        break;
      case 'disarm':
        clearTimeout(timer);
        armedFor = null;
        break;
    }
  });
}
