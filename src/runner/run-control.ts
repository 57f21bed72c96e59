/**
 * The worker's side of a live run's controls (pause, resume, single step,
 * stop, new hyper-parameters), as the step gate of `train()`.
 */
import type { Hyperparameters } from '../core/optim/optimizer';
import type { StepChanges, StepGate, TensorRates } from '../core/optim/train';
import type { RunControlMessage } from '../protocol';

export interface RunControlEvents {
  paused(step: number): void;
  resumed(): void;
  /** The answer to a request for a tensor's rates. */
  rates(requestId: number, rates: TensorRates | null, error: string | null): void;
}

export class RunControl implements StepGate {
  private paused = false;
  /** Steps a paused run may still take (single-stepping). */
  private allowance = 0;
  private pending: Hyperparameters | null = null;
  private detail: string | null | undefined = undefined;
  private wake: (() => void) | null = null;
  private inspect: ((tensor: string) => TensorRates) | null = null;
  readonly stopper = new AbortController();

  constructor(private readonly events: RunControlEvents) {}

  handle(message: RunControlMessage): void {
    if (message.type === 'setHyperparameters') {
      this.pending = { ...this.pending, ...message.values };
      return;
    }
    if (message.type === 'detail') {
      this.detail = message.tensor;
      if (message.requestId !== null) this.answerRates(message.requestId, message.tensor);
      return;
    }
    switch (message.action) {
      case 'pause':
        this.paused = true;
        this.allowance = 0;
        break;
      case 'resume':
        this.paused = false;
        break;
      case 'step':
        this.paused = true;
        this.allowance += 1;
        break;
      case 'stop':
        this.stopper.abort();
        this.paused = false;
        break;
    }
    this.wake?.();
  }

  attach(inspect: (tensor: string) => TensorRates): void {
    this.inspect = inspect;
  }

  /** Answered at once, from the latest recorded step: a paused run answers too. */
  private answerRates(requestId: number, tensor: string | null): void {
    try {
      if (tensor === null || this.inspect === null) throw new Error('the run has not started yet');
      this.events.rates(requestId, this.inspect(tensor), null);
    } catch (error) {
      this.events.rates(requestId, null, error instanceof Error ? error.message : String(error));
    }
  }

  async beforeStep(step: number): Promise<StepChanges | null> {
    if (this.paused && this.allowance === 0 && !this.stopper.signal.aborted) {
      this.events.paused(step - 1);
      while (this.paused && this.allowance === 0 && !this.stopper.signal.aborted) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
      this.events.resumed();
    }
    if (this.paused && this.allowance > 0) this.allowance -= 1;
    if (this.pending === null && this.detail === undefined) return null;
    const changes: StepChanges = {};
    if (this.pending) changes.hyperparameters = this.pending;
    if (this.detail !== undefined) changes.detailTensor = this.detail;
    this.pending = null;
    this.detail = undefined;
    return changes;
  }
}
