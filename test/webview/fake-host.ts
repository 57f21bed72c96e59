/** The host's side of the webview protocol without VS Code: a webview port and timers the tests control. */
import type { WebviewPort } from '../../src/extension/dashboard/channel';
import type { HostBatch, HostToWebview } from '../../src/webview-protocol';

/**
 * A webview that records posts; `send` plays a message from the page. It says
 * it handled each post at once (a page that keeps up) unless `keepingUp` is
 * false: then `acknowledge()` says so for every post so far.
 */
export class FakeWebview implements WebviewPort {
  readonly posts: HostBatch[] = [];
  delivered = true;
  keepingUp = true;
  private listener: ((message: unknown) => void) | null = null;

  postMessage(message: HostBatch): PromiseLike<boolean> {
    this.posts.push(structuredClone(message));
    if (this.keepingUp) this.send({ type: 'received', sequence: message.sequence });
    return Promise.resolve(this.delivered);
  }

  acknowledge(): void {
    const last = this.posts.at(-1);
    if (last) this.send({ type: 'received', sequence: last.sequence });
  }

  onDidReceiveMessage(listener: (message: unknown) => void) {
    this.listener = listener;
    return { dispose: () => (this.listener = null) };
  }

  send(message: unknown): void {
    this.listener?.(message);
  }

  get messages(): HostToWebview[] {
    return this.posts.flatMap((post) => post.messages);
  }
}

/** Timers under the test's control. */
export class Clock {
  now = 0;
  private timers: { at: number; callback: () => void }[] = [];

  setTimer = (callback: () => void, ms: number) => {
    this.timers.push({ at: this.now + ms, callback });
  };

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.callback();
    }
    this.now = end;
  }
}
