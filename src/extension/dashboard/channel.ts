/**
 * The host's end of one webview's protocol (a dashboard panel or the
 * last-result view), independent of the vscode module so it can be tested
 * in Node:
 *  - nothing is posted before the webview says `ready`; after every `ready`
 *    (a reload, the view shown again) the retained state is replayed;
 *  - messages are coalesced into one post per FLUSH_INTERVAL_MS (at most
 *    ~30 a second), records of a run merged into one message (see Outbox);
 *  - at most MAX_IN_FLIGHT posts await the page's `received`: while the page
 *    is behind, records fold into the next post instead of queueing in it,
 *    so memory stays bounded on both sides however fast a run goes;
 *  - what confirms a user's action (runStatus, hyperparametersChanged,
 *    runEnded, a response) is posted at once, past that limit and the
 *    interval, so it waits behind at most MAX_IN_FLIGHT small posts;
 *  - every incoming message is validated (parseWebviewMessage) and must name
 *    a run or file this webview was told about; each request gets exactly
 *    one response, carrying the handler's error if it threw.
 */
import {
  type HostBatch,
  type HostToWebview,
  type ResponseBody,
  type SaveExport,
  type WebviewRequest,
  parseWebviewMessage,
} from '../../webview-protocol';
import { type Extractor, runColumns } from '../../dashboard-table';
import { PendingRecords } from './record-spans';
import { RetainedState, type RetentionLimits } from './retained';

export const FLUSH_INTERVAL_MS = 33;
/** Posts the page has not yet said it handled, beyond which the host waits (urgent messages excepted). */
export const MAX_IN_FLIGHT = 2;

/** Messages that confirm what the user did in the page: they do not wait for the interval or the page's acknowledgement. */
function isUrgent(message: HostToWebview): boolean {
  return message.type === 'runStatus' || message.type === 'hyperparametersChanged' || message.type === 'runEnded' || message.type === 'response';
}

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

type Slot = { message: HostToWebview } | { records: PendingRecords };

/**
 * Messages waiting for the next post to one page, in order; the records of
 * a run merge into one message at the place of its first (PendingRecords:
 * records, or spans once the page's table folds them), closed by the run's
 * start or end so that records never move before them. Records of a run
 * this page was not told about are dropped (the page would ignore them).
 */
export class Outbox {
  private slots: Slot[] = [];
  /** Per run this page knows: its columns, the records its table holds and those pending. */
  private readonly runs = new Map<string, { columns: Extractor[]; sent: number; open: PendingRecords | null }>();

  get isEmpty(): boolean {
    return this.slots.length === 0;
  }

  add(message: HostToWebview): void {
    if (message.type === 'records') {
      const run = this.runs.get(message.runId);
      if (!run || message.records.length === 0) return;
      if (!run.open) {
        run.open = new PendingRecords(message.runId, run.columns, run.sent);
        this.slots.push({ records: run.open });
      }
      message.records.forEach((record, k) => run.open!.add(record, message.seconds[k]));
      return;
    }
    if (message.type === 'runStarted' || message.type === 'runEnded') {
      const run = this.runs.get(message.runId);
      if (run) this.close(run);
      if (message.type === 'runStarted' && !run) this.runs.set(message.runId, { columns: runColumns(message).map(([, extract]) => extract), sent: 0, open: null });
      // A run's records after its end are not expected; the page would keep them, so it is remembered until the page goes.
    }
    this.slots.push({ message });
  }

  /** Everything pending, in order; the page then holds it. */
  take(): HostToWebview[] {
    for (const run of this.runs.values()) this.close(run);
    const taken: HostToWebview[] = [];
    for (const slot of this.slots) {
      if ('message' in slot) taken.push(slot.message);
      else {
        const records = slot.records.take();
        if (records) taken.push(records);
      }
    }
    this.slots = [];
    return taken;
  }

  /** A new page: it holds nothing yet. */
  reset(): void {
    this.slots = [];
    this.runs.clear();
  }

  /** The run's pending records stay where they are in order; later ones open a new message. */
  private close(run: { sent: number; open: PendingRecords | null }): void {
    if (!run.open) return;
    run.sent += run.open.count;
    run.open = null;
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
  private urgentScheduled = false;
  private lastFlush = -Infinity;
  /** The last post's number, and the highest the page said it handled. */
  private sequence = 0;
  private acknowledged = 0;
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
    this.outbox.reset();
  }

  /** Posts not yet handled by the page. */
  get inFlight(): number {
    return this.sequence - this.acknowledged;
  }

  post(message: HostToWebview): void {
    this.retained.remember(message);
    if (!this.ready) return;
    this.outbox.add(message);
    if (isUrgent(message)) this.scheduleUrgentFlush();
    else this.scheduleFlush();
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
      // A new page: posts to the one before will never be acknowledged.
      this.acknowledged = this.sequence;
      this.outbox.reset();
      for (const replayed of this.retained.replay()) this.outbox.add(replayed);
      this.flush(true);
      return;
    }
    if (message.type === 'received') {
      if (message.sequence > this.acknowledged && message.sequence <= this.sequence) this.acknowledged = message.sequence;
      if (!this.outbox.isEmpty) this.scheduleFlush();
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
    if (this.flushScheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.flushScheduled = true;
    const wait = Math.max(0, this.lastFlush + FLUSH_INTERVAL_MS - this.now());
    this.setTimer(() => {
      this.flushScheduled = false;
      // The page fell behind meanwhile: its next acknowledgement schedules the post.
      if (this.inFlight < MAX_IN_FLIGHT) this.flush(false);
    }, wait);
  }

  /** In the same turn's end, so that what the host sends together still goes in one post. */
  private scheduleUrgentFlush(): void {
    if (this.urgentScheduled) return;
    this.urgentScheduled = true;
    this.setTimer(() => {
      this.urgentScheduled = false;
      this.flush(true);
    }, 0);
  }

  private flush(urgent: boolean): void {
    if (!this.ready || !this.webview || this.outbox.isEmpty) return;
    if (!urgent && this.inFlight >= MAX_IN_FLIGHT) return;
    this.lastFlush = this.now();
    const webview = this.webview;
    void webview.postMessage({ type: 'batch', sequence: ++this.sequence, messages: this.outbox.take() }).then(
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
