/**
 * The bulk evaluations of a full or sparse check: the values at x ± eps·e_i
 * for every chosen element, in chunks. A costly check also hands chunks to
 * helpers (other runner processes that opened the same problem, CheckHelpers);
 * whoever computes a chunk, chunks reach the recorder strictly in order, so a
 * check gives the same result, bit for bit, however many processes shared it.
 */
import type { ErrorReport } from './errors';
import type { Evaluations, PerturbedValues } from './objective';

/** Another process's view of the check's target. */
export interface Helper {
  /** The target's value at the check's point there (it must equal this process's). */
  readonly center: number;
  /** The target's perturbed values as this process would compute them; rejects with a HelperFailure. */
  perturbed(indices: Int32Array): Promise<HelpedValues>;
}

export interface HelpedValues extends PerturbedValues {
  /** The helper's evaluations for these values. */
  evaluations: Evaluations;
}

export interface HelperPool {
  /** The next helper once it is ready; null when no more will come. */
  next(): Promise<Helper | null>;
  /** Runs one of this process's own chunks once helpers were asked for (the runner's time limit covers these). */
  local<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the helpers; the check goes on, or ends, without them. */
  close(): void;
}

export interface CheckHelpers {
  /** The processes a check may be shared over, this one included (the runner's --jobs). */
  readonly processes: number;
  /**
   * Asked once per check, after its first chunks: the rest would take `remainingSeconds` in this process
   * alone. Returns the helpers to share it with, or null.
   */
  offer(remainingSeconds: number): HelperPool | null;
}

/** What a helper reported instead of values: an evaluation that failed there, or the helper's end (a limit, a crash). */
export class HelperFailure extends Error {
  override name = 'HelperFailure';
  constructor(readonly report: ErrorReport) {
    super(report.message);
  }
}

/**
 * The check's time limit: a check that cannot end within it, judged from the time of its first chunks
 * (spread over every process it may use), ends at once with `tooCostly`'s error instead of at the limit.
 */
export interface TimeBudget {
  /** When the limit ends, on performance.now()'s clock. */
  deadline: number;
  /** The error for a check that would take `estimatedSeconds` in this process alone, at `secondsPerElement`. */
  tooCostly(estimatedSeconds: number, secondsPerElement: number): Error;
}

/** Checks of fewer elements are not timed for their budget: one chunk of them costs too little to matter. */
const TIMED_MIN_TOTAL = 256;

/** Without helpers: at most this many exchanges of at least BULK_MIN_CHUNK elements each. */
const BULK_CHUNKS = 16;
const BULK_MIN_CHUNK = 256;
/** When helpers may be offered, the first TIMED_CHUNKS chunks have this many elements: enough to time an evaluation, cheap to wait for. */
const FIRST_CHUNK = 16;
const TIMED_CHUNKS = 2;
/** Shared with helpers: smaller chunks, so no process waits long for the last one. */
const SHARED_CHUNKS = 64;
const SHARED_MIN_CHUNK = 16;

export interface BulkPlan {
  /** The elements, in the order the recorder takes them. */
  indices: Int32Array;
  /** This process's evaluation of a chunk. */
  evaluate(part: Int32Array): Promise<PerturbedValues>;
  /** Takes each chunk's values, in order. */
  record(part: Int32Array, values: PerturbedValues, done: number): void;
  helpers?: CheckHelpers;
  budget?: TimeBudget;
  /** A helper is ready: whether to use it (not when its value at the point differs from this process's). */
  admit(helper: Helper): boolean;
  /** Evaluations made by helpers. */
  helped(evaluations: Evaluations): void;
}

interface Chunk {
  part: Int32Array;
  values: Promise<PerturbedValues>;
}

/** Computes every chunk of `plan`, here and in helpers, and records them in order; throws the first failure in that order. */
export async function evaluateInOrder(plan: BulkPlan): Promise<void> {
  const all = plan.indices;
  const total = all.length;
  if (total === 0) return;
  let position = 0;
  // Small first chunks, timed, when their time decides something: whether helpers pay, whether the check fits its time limit.
  const timing = Boolean(plan.helpers) || (plan.budget !== undefined && total > TIMED_MIN_TOTAL);
  let chunkSize = timing ? Math.min(FIRST_CHUNK, total) : Math.max(BULK_MIN_CHUNK, Math.ceil(total / BULK_CHUNKS));
  let stopped = false;
  const chunks: Chunk[] = [];
  // The recorder waits for chunk k before anyone claimed it: resolved when it is claimed, or with null at the end.
  const waiting = new Map<number, (chunk: Chunk | null) => void>();

  const claim = (evaluate: (part: Int32Array) => Promise<PerturbedValues>): Chunk | null => {
    if (stopped || position >= total) return null;
    const part = all.subarray(position, Math.min(total, position + chunkSize));
    position += part.length;
    const values = Promise.resolve().then(() => evaluate(part));
    // Once a chunk failed, no later one is needed (the recorder stops there); awaited in order below, a chunk
    // left behind by an earlier failure must not be an unhandled rejection.
    values.catch(() => {
      stopped = true;
    });
    const chunk = { part, values };
    chunks.push(chunk);
    waiting.get(chunks.length - 1)?.(chunk);
    waiting.delete(chunks.length - 1);
    if (position >= total) endClaims();
    return chunk;
  };
  const endClaims = () => {
    for (const resolve of waiting.values()) resolve(null);
    waiting.clear();
  };
  const chunkAt = (k: number): Promise<Chunk | null> | Chunk | null => {
    if (k < chunks.length) return chunks[k];
    if (stopped || position >= total) return null;
    return new Promise((resolve) => waiting.set(k, resolve));
  };

  /** One evaluator's chunks, one asked for ahead of the one awaited (another process never waits for the next request). */
  const serve = async (evaluate: (part: Int32Array) => Promise<PerturbedValues>): Promise<void> => {
    let current = claim(evaluate);
    while (current) {
      const next = claim(evaluate);
      await current.values.catch(() => undefined);
      current = next;
    }
  };

  let local = plan.evaluate;
  let pool: HelperPool | null = null;
  try {
    // With helpers on offer, the first chunks alone: their time says whether helpers pay. The faster
    // of two is taken per element, since the first evaluations also pay for warming up (JIT, caches).
    let done = 0;
    let secondsPerElement = Infinity;
    let timed = 0;
    for (; timed < (timing ? TIMED_CHUNKS : 1) && position < total; timed++) {
      const started = performance.now();
      const chunk = claim(local)!;
      const values = await chunk.values;
      secondsPerElement = Math.min(secondsPerElement, (performance.now() - started) / 1000 / chunk.part.length);
      plan.record(chunk.part, values, (done += chunk.part.length));
    }
    if (timing && position < total) {
      const remainingSeconds = secondsPerElement * (total - position);
      // The best case: every process it may use, each as fast as this one.
      const fastest = remainingSeconds / (plan.helpers?.processes ?? 1);
      if (plan.budget && fastest > (plan.budget.deadline - performance.now()) / 1000) throw plan.budget.tooCostly(secondsPerElement * total, secondsPerElement);
      pool = plan.helpers?.offer(remainingSeconds) ?? null;
      chunkSize = pool
        ? Math.max(SHARED_MIN_CHUNK, Math.ceil((total - position) / SHARED_CHUNKS))
        : Math.max(BULK_MIN_CHUNK, Math.ceil((total - position) / BULK_CHUNKS));
    }
    if (pool) {
      const helping = pool;
      local = (part) => helping.local(() => plan.evaluate(part));
      void admitHelpers(helping, plan, serve).catch(() => undefined);
    }
    void serve(local);
    for (let k = timed; ; k++) {
      const chunk = await chunkAt(k);
      if (!chunk) break;
      const values = await chunk.values;
      plan.record(chunk.part, values, (done += chunk.part.length));
    }
  } finally {
    stopped = true;
    endClaims();
    pool?.close();
  }
}

/** Each helper as it comes: admitted (same value at the point), then serving chunks with its evaluations counted. */
async function admitHelpers(pool: HelperPool, plan: BulkPlan, serve: (evaluate: (part: Int32Array) => Promise<PerturbedValues>) => Promise<void>): Promise<void> {
  for (let helper = await pool.next(); helper; helper = await pool.next()) {
    if (!plan.admit(helper)) continue;
    const ready = helper;
    void serve(async (part) => {
      const values = await ready.perturbed(part);
      plan.helped(values.evaluations);
      return values;
    });
  }
}
