/**
 * The problem-file contract: which exported objects are problems, and the
 * checks that turn a malformed one into a clear message instead of a crash.
 */
import { UserFault } from './errors';
import type { TensorTree, TensorValue } from './tensor';

type MaybePromise<T> = T | Promise<T>;

/** A gradient, Hessian-vector product or backward result: the structure of the tensors it belongs to. */
export type TensorsLike<T> = { [K in keyof T]: TensorValue };

/** A scalar loss over named parameters: checked with gradcheck and, when `hvp` exists, gradgradcheck. */
export interface Problem<P extends TensorTree = TensorTree> {
  params: P;
  /** The loss. With `data`, `batch` lists the sample indices of a mini-batch; without it, use the full batch. */
  f(p: P, batch?: number[]): MaybePromise<number>;
  grad(p: P, batch?: number[]): MaybePromise<TensorsLike<P>>;
  /** Hessian-vector product H(p)·v. */
  hvp?(p: P, v: P): MaybePromise<TensorsLike<P>>;
  data?: { size: number };
  description?: string;
}

/** A vector-valued function checked through its vector-Jacobian product. */
export interface Layer<I extends TensorTree = TensorTree, O extends TensorValue = TensorValue> {
  inputs: I;
  forward(inputs: I): MaybePromise<O>;
  /** d(gradOutput · forward(inputs)) / d inputs; gradOutput has the shape of forward's output. */
  backward(inputs: I, gradOutput: O): MaybePromise<TensorsLike<I>>;
  description?: string;
}

export type UserFunction = (...args: never[]) => unknown;

export interface ScalarDefinition {
  kind: 'scalar';
  name: string;
  params: unknown;
  f: UserFunction;
  grad: UserFunction;
  hvp: UserFunction | null;
  dataSize: number | null;
  description: string | null;
}

export interface LayerDefinition {
  kind: 'layer';
  name: string;
  inputs: unknown;
  forward: UserFunction;
  backward: UserFunction;
  description: string | null;
}

export type ProblemDefinition = ScalarDefinition | LayerDefinition;

/** A malformed problem: the message names the export and what is wrong. */
export class ProblemError extends UserFault {
  override name = 'ProblemError';
}

const SCALAR_KEYS = ['params', 'f', 'grad', 'hvp'] as const;
const LAYER_KEYS = ['inputs', 'forward', 'backward'] as const;

function read(object: object, exportName: string, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (error) {
    throw new ProblemError(`${exportName}: reading ${key} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

function has(object: object, key: string): boolean {
  return key in object;
}

function requireFunction(object: object, exportName: string, key: string, signature: string): UserFunction {
  if (!has(object, key)) throw new ProblemError(`${exportName}: missing ${key}, expected a function ${signature}`);
  const value = read(object, exportName, key);
  if (typeof value !== 'function') {
    throw new ProblemError(`${exportName}: ${key} is ${value === null ? 'null' : typeof value}, expected a function ${signature}`);
  }
  return value as UserFunction;
}

function optionalDescription(object: object, exportName: string): string | null {
  const description = has(object, 'description') ? read(object, exportName, 'description') : undefined;
  return typeof description === 'string' ? description : null;
}

/**
 * Classifies one export. Objects with at least two of the scalar-problem keys
 * (params, f, grad, hvp) are scalar problems, with two of the layer keys
 * (inputs, forward, backward) layers; anything else is not a problem (null).
 */
export function classifyExport(exportName: string, value: unknown): ProblemDefinition | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const scalarHits = SCALAR_KEYS.filter((key) => has(value, key)).length;
  const layerHits = LAYER_KEYS.filter((key) => has(value, key)).length;
  if (scalarHits >= 2 && layerHits >= 2) {
    throw new ProblemError(`${exportName}: has both params/f/grad and inputs/forward/backward; a problem is either a scalar loss or a layer`);
  }
  if (scalarHits >= 2) {
    if (!has(value, 'params')) throw new ProblemError(`${exportName}: missing params, expected named tensors like { w: [[...]], b: [...] }`);
    const params = read(value, exportName, 'params');
    const f = requireFunction(value, exportName, 'f', '(p) => number');
    const grad = requireFunction(value, exportName, 'grad', '(p) => gradient with the structure of params');
    const hvp = has(value, 'hvp') && read(value, exportName, 'hvp') !== undefined
      ? requireFunction(value, exportName, 'hvp', '(p, v) => Hessian-vector product with the structure of params')
      : null;
    let dataSize: number | null = null;
    if (has(value, 'data') && read(value, exportName, 'data') !== undefined) {
      const data = read(value, exportName, 'data');
      const size = data !== null && typeof data === 'object' ? read(data, `${exportName}.data`, 'size') : undefined;
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
        throw new ProblemError(`${exportName}: data.size is ${String(size)}, expected a positive integer (the number of samples)`);
      }
      dataSize = size;
    }
    return { kind: 'scalar', name: exportName, params, f, grad, hvp, dataSize, description: optionalDescription(value, exportName) };
  }
  if (layerHits >= 2) {
    if (!has(value, 'inputs')) throw new ProblemError(`${exportName}: missing inputs, expected named tensors like { x: [[...]] }`);
    const inputs = read(value, exportName, 'inputs');
    const forward = requireFunction(value, exportName, 'forward', '(inputs) => number or nested array');
    const backward = requireFunction(value, exportName, 'backward', '(inputs, gradOutput) => gradient with the structure of inputs');
    return { kind: 'layer', name: exportName, inputs, forward, backward, description: optionalDescription(value, exportName) };
  }
  return null;
}

/**
 * The problems among a module's exports, in export order. A malformed
 * problem does not hide the others: it is returned as an error entry.
 */
export interface InvalidProblem {
  kind: 'invalid';
  name: string;
  /** What it looked like, for reporting. */
  looksLike: 'scalar' | 'layer';
  error: string;
}

export function discoverProblems(moduleExports: unknown): (ProblemDefinition | InvalidProblem)[] {
  if (moduleExports === null || (typeof moduleExports !== 'object' && typeof moduleExports !== 'function')) return [];
  const found: (ProblemDefinition | InvalidProblem)[] = [];
  for (const name of Object.keys(moduleExports)) {
    if (name === '__esModule') continue;
    let value: unknown;
    try {
      value = (moduleExports as Record<string, unknown>)[name];
      const definition = classifyExport(name, value);
      if (definition) found.push(definition);
    } catch (error) {
      const candidate = value;
      const looksLike = candidate !== null && typeof candidate === 'object' && LAYER_KEYS.some((key) => key in candidate) ? 'layer' : 'scalar';
      const message = error instanceof ProblemError
        ? error.message
        : `${name}: reading the export threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      found.push({ kind: 'invalid', name, looksLike, error: message });
    }
  }
  return found;
}
