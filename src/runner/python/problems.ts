/**
 * The problems of a Python file as the engine sees them: each scalar problem
 * an Objective, each layer a FlatLayer, every evaluation a request to the
 * interpreter. Full and sparse checks go in bulk plans (one request for many
 * perturbed evaluations), an optimizer step is one request (f and grad
 * together), a contour grid one. The runner's error replies become the
 * engine's errors: UserCodeError (with the Python exception and its place),
 * TensorError, PerturbedFailure.
 */
import { ResponseError } from 'vscode-jsonrpc/node';
import { ArgumentWritten, argumentWrittenMessage } from '../../core/definitions';
import { KnownFailure, type SourceLocation, UserFault, limitClause } from '../../core/errors';
import {
  type Batch,
  type Evaluations,
  type FlatLayer,
  type Objective,
  PerturbedFailure,
  type ProblemNotes,
  type ShapeMismatch,
  UserCodeError,
  finiteNumber,
  lossLabel,
  noEvaluations,
  shapeMismatchSink,
} from '../../core/objective';
import { type Layout, NonFiniteError, TensorError, type TensorSpec } from '../../core/tensor';
import { decodeFloats, encodeFloats, encodeIndices } from './encoding';
import type { PythonSession } from './session';

// Error codes of python/gradlens_runner.py.
const USER_ERROR = -32001;
const TENSOR_ERROR = -32002;
export const LOAD_ERROR = -32003;
const OUT_OF_MEMORY = -32004;
const ARGUMENT_WRITTEN = -32005;

interface LayoutEntry {
  name: string;
  shape: number[];
  scalar: boolean;
}

/** A problem as the runner's load reply lists it. */
export interface PythonProblem {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  line: number | null;
  secondOrder?: boolean;
  dataSize?: number | null;
  description?: string | null;
  layout?: LayoutEntry[];
  values?: string;
  looksLike?: 'scalar' | 'layer';
  error?: string;
  /** PyTorch problems: tensors upcast or moved for the check. */
  warnings?: string[];
  nondeterminismHint?: string | null;
}

export interface LoadReply {
  problems: PythonProblem[];
  python: string;
  numpy: string;
}

export interface ErrorData {
  /** The function that raised: a key (`f`), or course code's own function (`affine_backward`). */
  function?: string;
  type?: string;
  message?: string;
  file?: string | null;
  line?: number | null;
  traceback?: string;
  missing?: string;
  nonFinite?: boolean;
  outOfMemory?: boolean;
  element?: { index: number; delta: number };
  /** ARGUMENT_WRITTEN: the flat element that changed and its values, or the tensor removed or replaced. */
  index?: number;
  before?: number;
  after?: number;
  removed?: string;
}

/** A gradient the runner read in another shape of the right size (gradlens_runner.py note_reshaped). */
interface ReshapedNote {
  label: string;
  like: string;
  tensor: string;
  found: number[];
  expected: number[];
  file: string | null;
  line: number | null;
}

/** Python raised in user code. */
export class PythonException extends UserFault {
  constructor(
    readonly type: string,
    message: string,
    readonly location: SourceLocation | null,
    readonly traceback: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** Where the runner says a malformed value came from (course code: the return statement of the function that returned it). */
const returnedAt = new WeakMap<Error, SourceLocation>();

/** Where a Python exception happened in the user's files, or where a malformed value was returned. */
export function pythonLocation(error: unknown): SourceLocation | null {
  if (error instanceof PythonException) return error.location;
  return error instanceof Error ? returnedAt.get(error) ?? null : null;
}

export function locationOf(data: ErrorData): SourceLocation | null {
  return data.file ? { file: data.file, line: data.line ?? 1, column: null } : null;
}

function layoutOf(entries: LayoutEntry[]): Layout {
  let offset = 0;
  const tensors: TensorSpec[] = entries.map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const spec: TensorSpec = { name: entry.name, shape: entry.shape, size, offset, form: entry.shape.length === 0 ? 'number' : entry.shape.length === 1 ? 'typed' : 'nested' };
    offset += size;
    return spec;
  });
  return { tensors, size: offset };
}

/**
 * One problem loaded in a session: its requests, with the arrays the runner already holds sent once.
 * One per problem and session, whether it is checked or optimized (the runner keeps what was sent).
 */
export class RemoteProblem {
  /** A check's evaluations report writes into the arguments (ArgumentWritten), as TypeScript's do. */
  reportWrites = false;
  readonly layout: Layout;
  readonly initial: Float64Array;
  readonly evaluations = noEvaluations();
  /** Gradients the runner read in another shape of the right size (note_reshaped), as they arrive with replies. */
  readonly shapeMismatches: ShapeMismatch[] = [];
  private readonly noteReshaped = shapeMismatchSink(this.shapeMismatches);
  /** The text last sent under each plan key: the runner keeps those arrays per problem (plan_array). */
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly session: PythonSession,
    readonly problem: PythonProblem,
    private readonly memoryMb: number,
  ) {
    this.layout = layoutOf(problem.layout ?? []);
    this.initial = decodeFloats(problem.values ?? '');
  }

  /** A plan with its arrays encoded; an array the runner holds already goes as "same". */
  private plan(kind: string, arrays: Record<string, Float64Array>, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const plan: Record<string, unknown> = { kind, ...extra, ...(this.reportWrites ? { writes: true } : {}) };
    const same: string[] = [];
    for (const [key, values] of Object.entries(arrays)) {
      const text = encodeFloats(values);
      if (this.sent.get(key) === text) same.push(key);
      else {
        plan[key] = text;
        this.sent.set(key, text);
      }
    }
    if (same.length > 0) plan.same = same;
    return plan;
  }

  /** What the objective and the layer of this problem share. */
  get identity(): { name: string; layout: Layout; initial: Float64Array; evaluations: Evaluations; notes: ProblemNotes; shapeMismatches: readonly ShapeMismatch[] } {
    const notes = { warnings: this.problem.warnings ?? [], nondeterminism: this.problem.nondeterminismHint ?? null };
    return { name: this.problem.name, layout: this.layout, initial: this.initial, evaluations: this.evaluations, notes, shapeMismatches: this.shapeMismatches };
  }

  async evaluate<T>(kind: string, arrays: Record<string, Float64Array>, extra: Record<string, unknown> = {}): Promise<T> {
    let reply: T & { reshaped?: ReshapedNote[] };
    try {
      reply = await this.session.request<T & { reshaped?: ReshapedNote[] }>('evaluate', { problem: this.problem.name, plan: this.plan(kind, arrays, extra) });
    } catch (error) {
      throw this.translate(error);
    }
    for (const note of reply.reshaped ?? []) this.noteReshaped({ ...note, location: locationOf(note) });
    return reply;
  }

  private translate(error: unknown): unknown {
    if (!(error instanceof ResponseError)) return error;
    const data = (error.data ?? {}) as ErrorData;
    let translated: Error;
    if (error.code === USER_ERROR) {
      translated = new UserCodeError(data.function ?? 'f', new PythonException(data.type ?? 'Exception', data.message ?? '', locationOf(data), data.traceback ?? ''));
    } else if (error.code === TENSOR_ERROR) {
      translated = data.nonFinite ? new NonFiniteError(data.message ?? error.message) : new TensorError(data.message ?? error.message);
      const location = locationOf(data);
      if (location) returnedAt.set(translated, location);
    } else if (error.code === ARGUMENT_WRITTEN) {
      translated = new ArgumentWritten(data.removed !== undefined
        ? `user code removed or replaced ${data.removed} in its argument (copy the dict before changing it)`
        : argumentWrittenMessage(this.layout, data.index ?? 0, data.before ?? NaN, data.after ?? NaN));
    } else if (error.code === OUT_OF_MEMORY) {
      const clause = limitClause('memory', this.memoryMb);
      translated = new KnownFailure(clause, 'limit', { name: 'memory', at: clause.length });
    } else {
      translated = new Error(`the Python runner: ${error.message}`);
    }
    return data.element ? new PerturbedFailure(translated, data.element.index, data.element.delta) : translated;
  }

  async perturbed(fn: 'f' | 'grad_dot' | 'forward_dot' | 'backward_dot', x: Float64Array, indices: Int32Array, eps: number, probes: Record<string, Float64Array>, extra: Record<string, unknown>) {
    const reply = await this.evaluate<{ plus: string; minus: string }>('perturbed', { x, ...probes }, { fn, eps, indices: encodeIndices(indices), ...extra });
    return { plus: decodeFloats(reply.plus), minus: decodeFloats(reply.minus) };
  }
}

const batchPlan = (batch: Batch) => (batch ? { batch } : {});

/** A scalar problem of the session as an objective. */
export function pythonObjective(remote: RemoteProblem): Objective {
  const { evaluations, problem } = remote;
  return {
    ...remote.identity,
    dataSize: problem.dataSize ?? null,
    loss: async (x, batch) => {
      evaluations.f++;
      const reply = await remote.evaluate<{ values: string }>('f', { x }, batchPlan(batch));
      return finiteNumber(lossLabel(batch))(decodeFloats(reply.values)[0]);
    },
    gradient: async (x, batch) => {
      evaluations.grad++;
      return decodeFloats((await remote.evaluate<{ grad: string }>('grad', { x }, batchPlan(batch))).grad);
    },
    hvp: problem.secondOrder
      ? async (x, v) => {
        evaluations.hvp++;
        return decodeFloats((await remote.evaluate<{ hvp: string }>('hvp', { x, v })).hvp);
      }
      : null,
    lossAndGradient: async (x, batch) => {
      evaluations.f++;
      evaluations.grad++;
      const reply = await remote.evaluate<{ values: string; grad: string }>('value_and_grad', { x }, batchPlan(batch));
      return { loss: finiteNumber(lossLabel(batch))(decodeFloats(reply.values)[0]), grad: decodeFloats(reply.grad) };
    },
    lossesOrNaN: async (points) => {
      evaluations.f += points.length;
      const size = remote.layout.size;
      const flat = new Float64Array(points.length * size);
      points.forEach((point, k) => flat.set(point, k * size));
      return Array.from(decodeFloats((await remote.evaluate<{ values: string }>('losses_or_nan', { points: flat })).values));
    },
    perturbedLosses: (x, indices, eps, batch) => {
      evaluations.f += 2 * indices.length;
      return remote.perturbed('f', x, indices, eps, {}, batchPlan(batch));
    },
    perturbedGradientDots: (x, indices, eps, probe) => {
      evaluations.grad += 2 * indices.length;
      return remote.perturbed('grad_dot', x, indices, eps, { v: probe }, {});
    },
  };
}

/** A layer of the session as a flat layer. */
export function pythonLayer(remote: RemoteProblem): FlatLayer {
  const { evaluations, problem } = remote;
  return {
    ...remote.identity,
    forward: async (x) => {
      evaluations.forward++;
      const reply = await remote.evaluate<{ shape: number[]; out: string }>('forward', { x });
      return { shape: reply.shape, values: decodeFloats(reply.out) };
    },
    backward: async (x, gradOutput, shape) => {
      evaluations.backward++;
      return decodeFloats((await remote.evaluate<{ grad: string }>('backward', { x, v: gradOutput }, { shape })).grad);
    },
    perturbedForwardDots: (x, indices, eps, probe, shape) => {
      evaluations.forward += 2 * indices.length;
      return remote.perturbed('forward_dot', x, indices, eps, { v: probe }, { shape });
    },
    // PyTorch Functions: the backward's own derivative by double backward (gradgradcheck).
    backwardHvp: problem.secondOrder
      ? async (x, gradOutput, shape, u) => {
        evaluations.backward++;
        return decodeFloats((await remote.evaluate<{ hvp: string }>('backward_hvp', { x, v: gradOutput, u }, { shape })).hvp);
      }
      : null,
    perturbedBackwardDots: (x, indices, eps, gradOutput, shape, u) => {
      evaluations.backward += 2 * indices.length;
      return remote.perturbed('backward_dot', x, indices, eps, { v: gradOutput, u }, { shape });
    },
  };
}
