/**
 * Named tensors: validation, flattening into one Float64Array, and the
 * user-facing nested-array view that the engine perturbs in place.
 *
 * Nested arrays are walked with loops; recursion only goes as deep as the
 * tensor's rank, never over its elements, so millions of elements are fine.
 */
import { UserFault } from './errors';
import type { ShapeMismatch } from './objective';

/** A tensor as users write it: a number, a (rectangular) nested array, or a typed array. */
export type TensorValue = number | readonly TensorValue[] | ArrayLike<number>;

/** A named collection of tensors: `params` of a scalar problem or `inputs` of a layer. */
export type TensorTree = Record<string, TensorValue>;

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** Position of element 0 in the flat vector of the whole layout. */
  readonly offset: number;
  /** How the user wrote it; the view given back to user code keeps this form. */
  readonly form: 'number' | 'nested' | 'typed';
}

export interface Layout {
  readonly tensors: readonly TensorSpec[];
  readonly size: number;
}

/** A problem with user data: names the offending value, element and expectation. */
export class TensorError extends UserFault {
  override name = 'TensorError';
}

/** A NaN or infinite value where a finite number belongs: in an optimizer run, divergence. */
export class NonFiniteError extends TensorError {}

type NumberArrayLike = ArrayLike<unknown>;

function isTypedNumberArray(value: unknown): value is ArrayLike<number> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function isArrayLikeNode(value: unknown): value is NumberArrayLike {
  return Array.isArray(value) || isTypedNumberArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (isTypedNumberArray(value)) return `a ${value.constructor.name} of length ${value.length}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** `W[2,3]` for element (2,3) of W; `b` for a scalar tensor. */
export function formatElement(name: string, index: readonly number[]): string {
  return index.length === 0 ? name : `${name}[${index.join(',')}]`;
}

/** Row-major multi-index of a flat position inside a tensor of the given shape. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const extent = shape[d];
    index[d] = rest % extent;
    rest = Math.floor(rest / extent);
  }
  return index;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((extent, d) => extent === b[d]);
}

function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const extent of shape) size *= extent;
  return size;
}

/**
 * The shape a value claims by its first elements (validated fully by
 * {@link readTensorInto}); null when it is neither a number nor an array.
 */
export function claimedShape(value: unknown): number[] | null {
  if (typeof value === 'number') return [];
  if (!isArrayLikeNode(value)) return null;
  const shape: number[] = [];
  let node: unknown = value;
  while (isArrayLikeNode(node)) {
    shape.push(node.length);
    if (node.length === 0) break;
    node = node[0];
  }
  return shape;
}

function inferShape(value: unknown, label: string): number[] {
  const shape = claimedShape(value);
  if (shape === null) {
    throw new TensorError(`${label} is ${describeValue(value)}, expected a number or a (nested) array of numbers`);
  }
  return shape;
}

/**
 * Validates `value` against `shape` and writes its elements, row-major, into
 * `out` from `offset`. Every element must be a finite number.
 */
export function readTensorInto(
  value: unknown,
  shape: readonly number[],
  out: Float64Array,
  offset: number,
  label: string,
): void {
  const rank = shape.length;
  if (rank === 0) {
    if (typeof value !== 'number') {
      throw new TensorError(`${label} is ${describeValue(value)}, expected a number`);
    }
    if (!Number.isFinite(value)) throw new NonFiniteError(`${label} is ${value}, expected a finite number`);
    out[offset] = value;
    return;
  }
  let position = offset;
  const visit = (node: unknown, depth: number, prefix: readonly number[]): void => {
    const here = prefix.length === 0 ? label : formatElement(label, prefix);
    if (!isArrayLikeNode(node)) {
      throw new TensorError(`${here} is ${describeValue(node)}, expected an array of length ${shape[depth]} (shape ${formatShape(shape)})`);
    }
    if (node.length !== shape[depth]) {
      const what = depth === 0 ? `has length ${node.length}` : `has ${node.length} elements`;
      throw new TensorError(`${here} ${what}, expected ${shape[depth]} (shape ${formatShape(shape)}${depth > 0 ? ': not rectangular' : ''})`);
    }
    if (depth === rank - 1) {
      for (let i = 0; i < node.length; i++) {
        const element = node[i];
        if (typeof element !== 'number') {
          throw new TensorError(`${formatElement(label, [...prefix, i])} is ${describeValue(element)}, expected a number`);
        }
        if (!Number.isFinite(element)) {
          throw new NonFiniteError(`${formatElement(label, [...prefix, i])} is ${element}, expected a finite number`);
        }
        out[position++] = element;
      }
      return;
    }
    for (let i = 0; i < node.length; i++) visit(node[i], depth + 1, [...prefix, i]);
  };
  visit(value, 0, []);
}

function tensorForm(value: unknown): TensorSpec['form'] {
  if (typeof value === 'number') return 'number';
  return isTypedNumberArray(value) ? 'typed' : 'nested';
}

/**
 * Reads a user's named tensors (`params` or `inputs`): the layout and the
 * flat values. `label` is how the tree is named in messages (`params`).
 */
export function readTree(tree: unknown, label: string): { layout: Layout; values: Float64Array } {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree) || isTypedNumberArray(tree)) {
    throw new TensorError(`${label} is ${describeValue(tree)}, expected an object of named tensors like { w: [[...]], b: [...] }`);
  }
  const tensors: TensorSpec[] = [];
  let offset = 0;
  const entries: [string, unknown][] = [];
  for (const name of Object.keys(tree)) {
    let value: unknown;
    try {
      value = (tree as Record<string, unknown>)[name];
    } catch (error) {
      throw new TensorError(`reading ${label}.${name} threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    const shape = inferShape(value, `${label}.${name}`);
    const size = shapeSize(shape);
    tensors.push({ name, shape, size, offset, form: tensorForm(value) });
    entries.push([name, value]);
    offset += size;
  }
  const values = new Float64Array(offset);
  for (let t = 0; t < tensors.length; t++) {
    readTensorInto(entries[t][1], tensors[t].shape, values, tensors[t].offset, `${label}.${tensors[t].name}`);
  }
  return { layout: { tensors, size: offset }, values };
}

/**
 * Reads a value that must have the structure of `layout` (a gradient, a
 * Hessian-vector product, a backward result) into a new flat vector.
 * Keys may come in any order; missing and extra keys are errors.
 */
export function readLike(value: unknown, layout: Layout, label: string, expectedLabel: string, onReshaped?: (mismatch: ShapeMismatch) => void): Float64Array {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isTypedNumberArray(value)) {
    throw new TensorError(`${label} is ${describeValue(value)}, expected an object with the structure of ${expectedLabel}`);
  }
  const record = value as Record<string, unknown>;
  const out = new Float64Array(layout.size);
  for (const spec of layout.tensors) {
    if (!(spec.name in record)) {
      throw new TensorError(`${label} has no ${spec.name}, expected one of shape ${formatShape(spec.shape)} like ${expectedLabel}.${spec.name}`);
    }
    const element = record[spec.name];
    const elementLabel = `${label}.${spec.name}`;
    const found = inferShape(element, elementLabel);
    const reshaped = !sameShape(found, spec.shape);
    if (reshaped && (!onReshaped || shapeSize(found) !== spec.size)) {
      throw new TensorError(`${elementLabel} has shape ${formatShape(found)}, expected ${formatShape(spec.shape)} like ${expectedLabel}.${spec.name}`);
    }
    // Of the same size: read row-major and checked, the shape reported with what the values are worth.
    if (reshaped) onReshaped!({ label: elementLabel, like: `${expectedLabel}.${spec.name}`, tensor: spec.name, found, expected: spec.shape, location: null });
    readTensorInto(element, reshaped ? found : spec.shape, out, spec.offset, elementLabel);
  }
  const known = new Set(layout.tensors.map((spec) => spec.name));
  for (const key of Object.keys(record)) {
    if (!known.has(key)) throw new TensorError(`${label} has ${key}, which ${expectedLabel} does not have`);
  }
  return out;
}

/** Finds the tensor holding flat element `flat` and its multi-index there. */
export function locateElement(layout: Layout, flat: number): { tensor: TensorSpec; index: number[] } {
  const tensors = layout.tensors;
  let low = 0;
  let high = tensors.length - 1;
  // The last tensor starting at or before `flat`: an empty tensor shares its
  // offset with the next one, which comes later and so wins.
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (tensors[mid].offset <= flat) low = mid;
    else high = mid - 1;
  }
  const tensor = tensors[low];
  return { tensor, index: unravelIndex(flat - tensor.offset, tensor.shape) };
}

export function describeElement(layout: Layout, flat: number): string {
  const { tensor, index } = locateElement(layout, flat);
  return formatElement(tensor.name, index);
}

/**
 * The point at which user code is evaluated: a flat Float64Array kept in
 * sync with the nested view (`tree`) handed to user functions. Setting one
 * element costs O(1), so a full central-difference check costs O(n) beyond
 * the user's own work.
 */
export class TensorPoint {
  readonly tree: Record<string, number | number[] | Float64Array | unknown[]>;
  private readonly rowsByTensor: (number[] | Float64Array)[][] = [];
  private readonly rowLength: number[] = [];
  private readonly tensorOf: Int32Array;

  constructor(
    readonly layout: Layout,
    readonly values: Float64Array,
  ) {
    this.tree = {};
    this.tensorOf = new Int32Array(layout.size);
    layout.tensors.forEach((spec, t) => {
      this.tensorOf.fill(t, spec.offset, spec.offset + spec.size);
      const rows: (number[] | Float64Array)[] = [];
      if (spec.form === 'number') {
        this.tree[spec.name] = values[spec.offset];
      } else if (spec.form === 'typed') {
        const copy = values.slice(spec.offset, spec.offset + spec.size);
        rows.push(copy);
        this.tree[spec.name] = copy;
      } else {
        this.tree[spec.name] = buildNested(spec, values, rows);
      }
      this.rowsByTensor.push(rows);
      this.rowLength.push(spec.shape.length === 0 ? 1 : spec.shape[spec.shape.length - 1]);
    });
  }

  get(flat: number): number {
    return this.values[flat];
  }

  set(flat: number, value: number): void {
    this.values[flat] = value;
    const t = this.tensorOf[flat];
    const spec = this.layout.tensors[t];
    if (spec.form === 'number') {
      this.tree[spec.name] = value;
      return;
    }
    const local = flat - spec.offset;
    const length = this.rowLength[t];
    this.rowsByTensor[t][Math.floor(local / length)][local % length] = value;
  }

  /** Sets elements [start, end) from `source` (indexed by flat position). */
  assignRange(source: Float64Array, start = 0, end = this.values.length): void {
    for (let i = start; i < end; i++) this.set(i, source[i]);
  }

  /** Reads the view back: differs from `values` only if user code wrote into its argument. */
  readBack(): Float64Array {
    const out = new Float64Array(this.layout.size);
    for (const spec of this.layout.tensors) {
      readTensorInto(this.tree[spec.name], spec.shape, out, spec.offset, spec.name);
    }
    return out;
  }
}

function buildNested(spec: TensorSpec, values: Float64Array, rows: (number[] | Float64Array)[]): unknown[] {
  const rank = spec.shape.length;
  let position = spec.offset;
  const build = (depth: number): unknown[] => {
    const extent = spec.shape[depth];
    if (depth === rank - 1) {
      const row = new Array<number>(extent);
      for (let i = 0; i < extent; i++) row[i] = values[position++];
      rows.push(row);
      return row;
    }
    const node = new Array<unknown>(extent);
    for (let i = 0; i < extent; i++) node[i] = build(depth + 1);
    return node;
  };
  return build(0);
}

/** A fresh tree of the layout's structure holding `values` (for probes passed to user code). */
export function treeOf(layout: Layout, values: Float64Array): TensorPoint['tree'] {
  return new TensorPoint(layout, values.slice()).tree;
}

/** A tensor's name and shape, as results name the parameters they report. */
export interface NamedShape {
  name: string;
  shape: number[];
}

/** What a named tensor's values are outside GradLens: a number, or nested arrays of its shape. */
export type NestedNumbers = number | NestedNumbers[];

/** The layout's names and shapes, for results. */
export function namedShapes(layout: Layout): NamedShape[] {
  return layout.tensors.map((spec) => ({ name: spec.name, shape: [...spec.shape] }));
}

/** Flat values (in layout order) as the problem names and shapes them: `{ x: -1.14, W: [[...], [...]] }`. */
export function namedValues(tensors: readonly NamedShape[], flat: ArrayLike<number>): Record<string, NestedNumbers> {
  const named: Record<string, NestedNumbers> = {};
  let position = 0;
  for (const { name, shape } of tensors) {
    const build = (depth: number): NestedNumbers => {
      if (depth === shape.length) return flat[position++];
      return Array.from({ length: shape[depth] }, () => build(depth + 1));
    };
    named[name] = build(0);
  }
  return named;
}

/** Named values back to flat ones in layout order; a missing, extra or misshapen tensor is a TensorError naming it. */
export function flatValues(tensors: readonly NamedShape[], named: unknown, label: string): number[] {
  let offset = 0;
  const specs: TensorSpec[] = tensors.map(({ name, shape }) => {
    const size = shapeSize(shape);
    const spec: TensorSpec = { name, shape, size, offset, form: shape.length === 0 ? 'number' : 'nested' };
    offset += size;
    return spec;
  });
  return Array.from(readLike(named, { tensors: specs, size: offset }, label, 'params'));
}
