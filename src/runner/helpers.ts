/**
 * The parent's side of a check shared with helper runner processes (--jobs,
 * shared-check.ts): it starts them when the check asks, each supervised with
 * its own limits (the time limit ending at the check's deadline), passes
 * messages between them and the check, and ends them with the check. A helper
 * that dies is reported to the check, which fails the chunks it held.
 */
import { errorReport } from '../core/errors';
import type { CheckOptions } from '../core/gradcheck';
import type { HelperMessage, LiveMessage, WorkerToParent } from '../protocol';
import { type RunnerLimits, supervise } from './supervisor';

interface Running {
  post: ((message: LiveMessage) => void) | null;
  stop: AbortController;
}

export class CheckHelperProcesses {
  private running = new Map<number, Running>();
  private numbers = 0;

  constructor(
    private readonly file: string,
    private readonly options: Partial<CheckOptions>,
    private readonly python: string | null,
    private readonly limits: RunnerLimits,
    private readonly signal: AbortSignal | undefined,
    /** Passes a message to the check. */
    private readonly toCheck: (message: HelperMessage) => void,
  ) {}

  /** `count` helpers for problem `name`, whose check must end by `deadline` (ms since the epoch). */
  start(name: string, count: number, deadline: number): void {
    for (let k = 0; k < count; k++) {
      const number = this.numbers++;
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      this.signal?.addEventListener('abort', onAbort, { once: true });
      const running: Running = { post: null, stop };
      this.running.set(number, running);
      const failed = (message: string) => this.toCheck({ type: 'helperFailed', helper: number, id: null, error: errorReport(message, 'runner', 'check') });
      void supervise(
        { type: 'help', file: this.file, name, options: this.options, timeoutMs: this.limits.timeoutSeconds * 1000, deadline, memoryMb: this.limits.memoryMb, python: this.python },
        this.file,
        // The check's limits: a helper's limit is named as the check's (`timed out after 60 s`), though it ends at the check's deadline.
        this.limits,
        // A helper's output is not shown: its module-level prints would repeat the check's.
        { signal: stop.signal, onControlChannel: (post) => (running.post = post) },
        (message: WorkerToParent) => {
          if (message.type === 'ready') this.toCheck({ type: 'helperReady', helper: number, center: message.center });
          else if (message.type === 'values') this.toCheck({ type: 'helperValues', helper: number, id: message.id, plus: message.plus, minus: message.minus, evaluations: message.evaluations });
          else if (message.type === 'evaluationFailed') this.toCheck({ type: 'helperFailed', helper: number, id: message.id, error: message.error });
          else if (message.type === 'loadError' || message.type === 'refused') this.toCheck({ type: 'helperFailed', helper: number, id: null, error: message.error });
        },
      ).then((outcome) => {
        this.signal?.removeEventListener('abort', onAbort);
        if (!this.running.has(number)) return;
        this.running.delete(number);
        if (outcome.interrupted) this.toCheck({ type: 'helperFailed', helper: number, id: null, error: outcome.interrupted.reason });
        else failed('a helper runner process ended before the check did');
      });
    }
  }

  /** The check asks helper `helper` for perturbed values. */
  evaluate(helper: number, id: number, indices: number[]): void {
    this.running.get(helper)?.post?.({ type: 'evaluate', id, indices });
  }

  /** Ends every helper (the check is done with them, or ended). */
  end(): void {
    const running = [...this.running.values()];
    this.running.clear();
    for (const { stop } of running) stop.abort();
  }
}
