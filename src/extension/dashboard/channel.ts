/**
 * The host's end of one webview's protocol (a dashboard panel or the
 * last-result view), independent of the vscode module so it can be tested
 * in Node:
 *  - nothing is posted before the webview says `ready`; after every `ready`
 *    (a reload, the view shown again) the retained state is replayed;
 *  - messages are coalesced into one post per FLUSH_INTERVAL_MS (at most
 *    ~30 a second), records of a run merged into one batch;
 *  - every incoming message is validated (parseWebviewMessage) and must name
 *    a run or file this webview was told about; each request gets exactly
 *    one response, carrying the handler's error if it threw.
 */
import {
  type HostBatch,
  type HostToWebview,
  type RecordsBatch,
  type ResponseBody,
  type SaveExport,
  type WebviewRequest,
  parseWebviewMessage,
} from '../../webview-protocol';
import { RetainedState, type RetentionLimits } from './retained';

export const FLUSH_INTERVAL_MS = 33;

/** The part of vscode.Webview the channel uses. */
export interface WebviewPort {
  postMessage(message: HostBatch): PromiseLike<boolean>;
  onDidReceiveMessage(listener: (message: unknown) => void): { dispose(): unknown };
}

/** What the extension handles: every request but saveExport (the channel saves exports itself). */
export type DashboardRequest = Exclude<WebviewRequest, SaveExport>;

/** Carries out a request, with what it asked for (or null); throwing (or rejecting) sends the error back to the webview. */
export type RequestListener = (request: DashboardRequest) => Promise<ResponseBody | null>;

export interface ChannelOptions {
  mode: 'panel' | 'compact';
  limits: RetentionLimits;
  /** Shows a save dialog and writes the export; the saved path, or null when cancelled. */
  saveExport(request: SaveExport): Promise<string | null>;
  /** Something worth a line in the log (a dropped message, a failed post). */
  log(message: string): void;
  /** Timers, replaceable in tests. */
  setTimer?: (callback: () => void, ms: number) => unknown;
  now?: () => number;
}

/** Messages waiting for the next post; records of a run merge into one batch. */
export class Outbox {
  private messages: HostToWebview[] = [];
  private readonly openBatches = new Map<string, RecordsBatch>();

  get size(): number {
    return this.messages.length;
  }

  add(message: HostToWebview): void {
    if (message.type === 'records') {
      const open = this.openBatches.get(message.runId);
      if (open) {
        open.records.push(...message.records);
        open.seconds.push(...message.seconds);
        return;
      }
      // A copy: the caller's arrays are not ours to grow.
      const batch: RecordsBatch = { ...message, records: [...message.records], seconds: [...message.seconds] };
      this.openBatches.set(message.runId, batch);
      this.messages.push(batch);
      return;
    }
    // A run's records after its end (or a newer start) belong after that message.
    if (message.type === 'runStarted' || message.type === 'runEnded') this.openBatches.delete(message.runId);
    this.messages.push(message);
  }

  take(): HostToWebview[] {
    const taken = this.messages;
    this.messages = [];
    this.openBatches.clear();
    return taken;
  }
}

export class WebviewChannel {
  private readonly retained: RetainedState;
  private readonly outbox = new Outbox();
  private readonly listeners = new Set<RequestListener>();
  private webview: WebviewPort | null = null;
  private subscription: { dispose(): unknown } | null = null;
  private ready = false;
  private flushScheduled = false;
  private lastFlush = -Infinity;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly now: () => number;

  constructor(private readonly options: ChannelOptions) {
    this.retained = new RetainedState(options.limits);
    this.retained.remember({ type: 'config', mode: options.mode });
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.now = options.now ?? (() => performance.now());
  }

  /** Connects a webview whose page is loading (it will say ready). */
  attach(webview: WebviewPort): void {
    this.detach();
    this.webview = webview;
    this.subscription = webview.onDidReceiveMessage((raw) => this.receive(raw));
  }

  /** The page is gone (hidden without retained context, or disposed): nothing is posted until the next ready. */
  detach(): void {
    this.subscription?.dispose();
    this.subscription = null;
    this.webview = null;
    this.pageGone();
  }

  /** The page was unloaded but the webview stays (a hidden panel): wait for its next ready. */
  pageGone(): void {
    this.ready = false;
    this.outbox.take();
  }

  post(message: HostToWebview): void {
    this.retained.remember(message);
    if (!this.ready) return;
    this.outbox.add(message);
    this.scheduleFlush();
  }

  onRequest(listener: RequestListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  dispose(): void {
    this.detach();
    this.listeners.clear();
  }

  private receive(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.options.log(`dashboard: dropped an invalid message from the webview: ${describe(raw)}`);
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      this.outbox.take();
      for (const replayed of this.retained.replay()) this.outbox.add(replayed);
      this.flush();
      return;
    }
    void this.answer(message);
  }

  private async answer(request: WebviewRequest): Promise<void> {
    let error: string | null = null;
    let body: ResponseBody | null = null;
    try {
      const unknown = this.unknownTarget(request);
      if (unknown) throw new Error(unknown);
      if (request.type === 'saveExport') {
        body = { kind: 'saved', path: await this.options.saveExport(request) };
      } else {
        if (this.listeners.size === 0) throw new Error(`nothing handles ${request.type} yet`);
        const bodies = await Promise.all([...this.listeners].map((listener) => listener(request)));
        body = bodies.find((entry) => entry !== null) ?? null;
      }
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    this.post({ type: 'response', requestId: request.requestId, error, body });
  }

  /** Requests may only name runs and files this webview was sent. */
  private unknownTarget(request: WebviewRequest): string | null {
    if ('runId' in request && !this.retained.hasRun(request.runId)) return `no run ${request.runId} in this window (runs from before a reload cannot be controlled)`;
    if (request.type === 'reveal' && !this.retained.hasFile(request.file)) return `${request.file} is not among the checked files (check it again to reveal it)`;
    return null;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = Math.max(0, this.lastFlush + FLUSH_INTERVAL_MS - this.now());
    this.setTimer(() => this.flush(), wait);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.ready || !this.webview || this.outbox.size === 0) return;
    this.lastFlush = this.now();
    const webview = this.webview;
    void webview.postMessage({ type: 'batch', messages: this.outbox.take() }).then(
      (delivered) => {
        // Not delivered: the page went away without telling; its next ready replays.
        if (!delivered && this.webview === webview) this.ready = false;
      },
      (failure: unknown) => this.options.log(`dashboard: could not post to the webview: ${String(failure)}`),
    );
  }
}

/** What a dropped message was, without echoing its (untrusted, possibly large) content. */
function describe(raw: unknown): string {
  const type = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? `type ${JSON.stringify(type.slice(0, 40))}` : `a ${raw === null ? 'null' : typeof raw} without a type`;
}
