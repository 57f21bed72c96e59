/**
 * One optimize request running in the sandbox, live in the dashboard: its
 * runs and their dashboard ids, the run the worker steps now, what the
 * runner reports (streamed to the dashboard and the log), and the controls
 * and questions the dashboard sends back (pause, step, new hyper-parameters,
 * stop, a tensor's effective learning rates).
 */
import type { Hyperparameters } from '../core/optim/optimizer';
import { findOptimizer, resolveHyperparameters } from '../core/optim';
import type { ScheduleSpec } from '../core/optim/schedules';
import type { TensorRates, TrainResult } from '../core/optim/train';
import { namedValues } from '../core/tensor';
import type { OptimizerRun, RunControlMessage } from '../protocol';
import type { OptimizeEvents } from '../runner/optimize';
import type { EffectiveLrBody, HostToWebview, RunAction } from '../webview-protocol';
import type { PickedProblem } from './pickers';

/** Records a run's result keeps (evenly thinned) for the log's table: the dashboard has every record from onRecords. */
const RESULT_RECORDS = 2000;

/** What a live run tells the rest of the extension. */
export interface LiveRunOutput {
  /** To the dashboard (opened when `open`). */
  broadcast(message: HostToWebview, open?: boolean): void;
  /** A progress line for the job's notification. */
  progress(text: string): void;
  /** A run ended: its report for the log. */
  trained(result: TrainResult): void;
  /** Text of an error for the dashboard, in VS Code's words. */
  describeFailure(result: TrainResult): string | null;
}

export class LiveRun {
  /** Dashboard run id per optimizer run name (unique within the request). */
  readonly runIds: Map<string, string>;
  readonly stopper = new AbortController();
  /** The run the worker steps now: controls go to it. */
  private current: string | null = null;
  private post: ((message: RunControlMessage) => void) | null = null;
  /** Tensor names per run id. */
  private readonly tensors = new Map<string, string[]>();
  private readonly started = new Map<string, number>();
  private readonly lastStep = new Map<string, number>();
  /** Questions for the worker (a tensor's rates), answered by requestId. */
  private readonly pending = new Map<number, { runId: string; tensor: string; settle(body: EffectiveLrBody | Error): void }>();
  private nextRequest = 1;

  constructor(
    readonly picked: PickedProblem,
    readonly runs: OptimizerRun[],
    readonly start: number[] | null,
    readonly compareGroup: string | null,
    readonly schedule: ScheduleSpec,
    /** Steps planned per run. */
    private readonly steps: number,
    newRunId: (run: string) => string,
    private readonly output: LiveRunOutput,
  ) {
    this.runIds = new Map(runs.map((run) => [run.name, newRunId(run.name)]));
  }

  private runId(name: string): string {
    return this.runIds.get(name)!;
  }

  /** Is `runId` the run the worker steps now? */
  private isCurrent(runId: string): boolean {
    return this.current !== null && this.runId(this.current) === runId && !this.stopper.signal.aborted;
  }

  private requireCurrent(runId: string, what: string): void {
    if (this.isCurrent(runId)) return;
    throw new Error(this.stopper.signal.aborted || this.current === null ? `${runId} has ended${what}` : `${runId} is not running now (a compare runs its optimizers one after another)`);
  }

  control(runId: string, action: Exclude<RunAction, 'restart'>): void {
    this.requireCurrent(runId, '');
    // Stop ends the current run with its result; a compare goes on with the next optimizer.
    this.post?.({ type: 'control', action });
  }

  /** Numbers only: a boolean (amsgrad, centered) changes the shape of the optimizer's state. */
  setHyperparameters(runId: string, values: Hyperparameters): void {
    this.requireCurrent(runId, '');
    const run = this.runs.find((entry) => this.runId(entry.name) === runId)!;
    const choice = findOptimizer(run.name)!;
    for (const name of Object.keys(values)) {
      const spec = choice.optimizer.hyperparameters.find((candidate) => candidate.name === name);
      if (!spec) throw new Error(`${run.name} has no hyper-parameter ${name}`);
      if (spec.kind !== 'number' && spec.kind !== 'pair') throw new Error(`${name} cannot change during a run (it changes the optimizer's state); restart with it instead`);
    }
    run.hyperparameters = resolveHyperparameters(choice, { ...run.hyperparameters, ...values });
    this.post?.({ type: 'setHyperparameters', values });
  }

  /**
   * A tensor's effective learning rates at the latest recorded step, in one
   * exchange with the worker (a paused run answers too); from the next step
   * on its records carry them as well.
   */
  requestRates(runId: string, tensor: string): Promise<EffectiveLrBody> {
    const tensors = this.tensors.get(runId) ?? [];
    if (!tensors.includes(tensor)) throw new Error(`no tensor ${tensor} in ${runId} (it has ${tensors.join(', ')})`);
    this.requireCurrent(runId, ': its per-element rates are no longer computed');
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { runId, tensor, settle: (body) => (body instanceof Error ? reject(body) : resolve(body)) });
      this.post?.({ type: 'detail', tensor, requestId });
    });
  }

  private answered(requestId: number, rates: TensorRates | null, error: string | null): void {
    const question = this.pending.get(requestId);
    if (!question) return;
    this.pending.delete(requestId);
    question.settle(rates ? { kind: 'effectiveLr', runId: question.runId, tensor: question.tensor, ...rates } : new Error(error ?? 'no rates'));
  }

  /** Questions left when a run ends get that as their answer. */
  private endQuestions(): void {
    for (const [requestId, question] of this.pending) {
      this.pending.delete(requestId);
      question.settle(new Error(`${question.runId} ended before it answered`));
    }
  }

  /** What the runner reports, streamed to the dashboard; the controls' channel kept for the dashboard's requests. */
  events(onOutput: (text: string) => void): OptimizeEvents {
    const { picked, output } = this;
    return {
      signal: this.stopper.signal,
      // Not all (optimizeSource's default): a long run would hold every record in the host.
      keepRecords: RESULT_RECORDS,
      onOutput,
      onControlChannel: (post) => (this.post = post),
      onSurface: (surface) => output.broadcast({
        type: 'lossSurface',
        problem: picked.label,
        x: surface.x,
        y: surface.y,
        nx: surface.resolution,
        ny: surface.resolution,
        values: surface.values,
        minima: surface.minima,
      }),
      onRunStarted: (message) => {
        this.current = message.run;
        this.started.set(message.run, performance.now());
        this.tensors.set(this.runId(message.run), message.tensors.map((tensor) => tensor.name));
        output.progress(message.run);
        output.broadcast({
          type: 'runStarted',
          runId: this.runId(message.run),
          problem: picked.label,
          optimizer: message.run,
          hyperparameters: this.runs.find((run) => run.name === message.run)!.hyperparameters,
          tensors: message.tensors,
          twoDimensional: message.start.length === 2,
          start: message.start.length === 2 ? [message.start[0], message.start[1]] : null,
          adaptive: findOptimizer(message.run)?.optimizer.adaptive ?? false,
          detailTensor: null,
          steps: this.steps,
          compareGroup: this.compareGroup,
        }, true);
      },
      onRecords: (run, records) => {
        const elapsed = (performance.now() - (this.started.get(run) ?? performance.now())) / 1000;
        const last = records[records.length - 1];
        this.lastStep.set(run, last.step);
        output.progress(`${run}: step ${last.step} of ${this.steps}, loss ${last.loss.toPrecision(4)}`);
        output.broadcast({ type: 'records', runId: this.runId(run), records, seconds: records.map(() => elapsed) });
      },
      onRates: (requestId, rates, error) => this.answered(requestId, rates, error),
      // The dashboard's buttons follow these, not the responses to its requests.
      onPaused: (run, step) => output.broadcast({ type: 'runStatus', runId: this.runId(run), paused: true, step }),
      onResumed: (run) => output.broadcast({ type: 'runStatus', runId: this.runId(run), paused: false, step: this.lastStep.get(run) ?? 0 }),
      onHyperparametersChanged: (run, step, values) => output.broadcast({ type: 'hyperparametersChanged', runId: this.runId(run), step, values }),
      onTrained: (result) => {
        this.current = null;
        this.endQuestions();
        output.trained(result);
        output.broadcast({
          type: 'runEnded',
          runId: this.runId(result.optimizer),
          stopped: result.stopped,
          diverged: result.diverged,
          failure: output.describeFailure(result),
          finalParams: namedValues(result.layout, result.final.params),
          finalLoss: result.final.loss,
          finalStep: result.final.step,
          seconds: result.seconds,
        });
      },
    };
  }

  /** The request has ended (or was stopped): nothing more can be asked of it. */
  close(): void {
    this.current = null;
    this.stopper.abort();
    this.endQuestions();
  }
}
