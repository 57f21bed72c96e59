/**
 * A costly full or sparse check shared with helper runner processes (--jobs),
 * on both sides of the parent that starts them and passes their messages:
 *  - SharedCheck: the checking process's CheckHelpers (core/bulk.ts). It asks
 *    for helpers once the first chunk shows the rest is worth their start-up,
 *    and keeps the problem's time limit on its own evaluations only, so a hang
 *    is located in whichever process runs into it.
 *  - serveHelp: a helper's side, answering 'evaluate' requests in order.
 */
import { type CheckHelpers, type Helper, HelperFailure, type HelperPool, type HelpedValues } from '../core/bulk';
import { errorReport } from '../core/errors';
import type { HelperMessage, WorkerToParent } from '../protocol';
import type { TimeLimit } from './load';

/** Helpers are asked for only when the rest of a check would take this long here alone... */
const HELPERS_MIN_SECONDS = 1;
/** ...and this many times what a helper needs to start (as long as this process took to load the file). */
const STARTUP_FACTOR = 3;

/** How much later than the helpers' this process's own time limit ends while they help (the supervisor's backstop follows). */
export const LOCAL_GRACE_MS = 1000;

interface Pending {
  resolve(values: HelpedValues): void;
  reject(error: HelperFailure): void;
}

class RemoteHelper implements Helper {
  private readonly pending = new Map<number, Pending>();
  private ended: HelperFailure | null = null;

  constructor(
    readonly number: number,
    readonly center: number,
    private readonly ask: (helper: number, id: number, indices: Int32Array) => void,
    private readonly nextId: () => number,
  ) {}

  perturbed(indices: Int32Array): Promise<HelpedValues> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ask(this.number, id, indices);
    });
  }

  answer(id: number, outcome: HelpedValues | HelperFailure): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (outcome instanceof HelperFailure) pending?.reject(outcome);
    else pending?.resolve(outcome);
  }

  end(failure: HelperFailure): void {
    this.ended = failure;
    for (const pending of this.pending.values()) pending.reject(failure);
    this.pending.clear();
  }
}

/** The helpers of one check, as the parent reports them. */
class RemotePool implements HelperPool {
  private readonly helpers = new Map<number, RemoteHelper>();
  private readonly ready: RemoteHelper[] = [];
  private readonly waiting: ((helper: RemoteHelper | null) => void)[] = [];
  /** Helpers that became ready or ended before they were. */
  private accounted = 0;
  private closed = false;
  private requests = 0;
  private running = 0;

  constructor(
    private readonly name: string,
    private readonly count: number,
    private readonly send: (message: WorkerToParent) => void,
    private readonly limit: TimeLimit,
    private readonly deadline: number,
  ) {
    // From here on the time limit covers this process's own chunks (local), not its waiting for helpers.
    limit.disarm();
    send({ type: 'helpersWanted', name, count });
  }

  next(): Promise<Helper | null> {
    const helper = this.ready.shift();
    if (helper) return Promise.resolve(helper);
    if (this.closed || this.accounted >= this.count) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async local<T>(work: () => Promise<T>): Promise<T> {
    // JavaScript user code evaluates a whole chunk without yielding: let the helpers' messages in first.
    await new Promise((resolve) => setImmediate(resolve));
    // A second later than the helpers' limit: a helper that hangs reports where, before this process,
    // waiting for it, meets the deadline somewhere of no interest.
    if (this.running++ === 0) this.limit.arm(this.name, this.remaining() + LOCAL_GRACE_MS);
    try {
      return await work();
    } finally {
      if (--this.running === 0) this.limit.disarm();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send({ type: 'helpersDone', name: this.name });
    for (const resolve of this.waiting.splice(0)) resolve(null);
    // The check's last evaluations (the determinism check) run here, within what is left of its time;
    // a check that ends with a helper's report has the grace to send it.
    this.limit.arm(this.name, this.remaining() + LOCAL_GRACE_MS);
  }

  handle(message: HelperMessage): void {
    if (message.type === 'evaluate') return;
    if (message.type === 'helperReady') {
      this.accounted++;
      const helper = new RemoteHelper(message.helper, message.center, (number, id, indices) => {
        this.send({ type: 'helperEvaluate', helper: number, id, indices: Array.from(indices) });
      }, () => this.requests++);
      this.helpers.set(message.helper, helper);
      const waiter = this.waiting.shift();
      if (waiter) waiter(helper);
      else this.ready.push(helper);
      return;
    }
    const helper = this.helpers.get(message.helper);
    if (message.type === 'helperValues') {
      helper?.answer(message.id, { plus: Float64Array.from(message.plus), minus: Float64Array.from(message.minus), evaluations: message.evaluations });
      return;
    }
    const failure = new HelperFailure(message.error);
    if (message.id !== null) {
      helper?.answer(message.id, failure);
      return;
    }
    if (helper) {
      helper.end(failure);
      return;
    }
    // Ended before it was ready (it could not load or open the problem): the check goes on without it.
    this.accounted++;
    if (this.accounted >= this.count) for (const resolve of this.waiting.splice(0)) resolve(null);
  }

  private remaining(): number {
    return Math.max(1, this.deadline - Date.now());
  }
}

/** The checking process's side: offered once per check by the engine. */
export class SharedCheck implements CheckHelpers {
  private pool: RemotePool | null = null;
  private readonly deadline: number;

  constructor(
    private readonly name: string,
    private readonly jobs: number,
    /** How long this process took to load the file: about what a helper needs to start. */
    private readonly startupSeconds: number,
    timeoutMs: number,
    private readonly send: (message: WorkerToParent) => void,
    private readonly limit: TimeLimit,
  ) {
    this.deadline = Date.now() + timeoutMs;
  }

  get processes(): number {
    return this.jobs;
  }

  offer(remainingSeconds: number): HelperPool | null {
    if (this.jobs < 2 || remainingSeconds < Math.max(HELPERS_MIN_SECONDS, STARTUP_FACTOR * this.startupSeconds)) return null;
    this.pool = new RemotePool(this.name, this.jobs - 1, this.send, this.limit, this.deadline);
    return this.pool;
  }

  handle(message: HelperMessage): void {
    this.pool?.handle(message);
  }
}

/**
 * A helper's side: `side` opened the problem as the check did; requests are answered one at a time
 * in the order they came (the target is not reentrant), failures as the check would describe them.
 */
export function serveHelp(side: Helper, send: (message: WorkerToParent) => Promise<void>): (message: HelperMessage) => void {
  let queue = Promise.resolve();
  return (message) => {
    if (message.type !== 'evaluate') return;
    queue = queue.then(async () => {
      try {
        const values = await side.perturbed(Int32Array.from(message.indices));
        await send({ type: 'values', id: message.id, plus: Array.from(values.plus), minus: Array.from(values.minus), evaluations: values.evaluations });
      } catch (error) {
        const report = error instanceof HelperFailure ? error.report : errorReport(`internal error: ${String(error)}`, 'internal', 'check');
        await send({ type: 'evaluationFailed', id: message.id, error: report });
      }
    });
  };
}
