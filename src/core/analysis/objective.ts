/**
 * A scalar problem seen as a function of one flat vector: f(x), grad(x) and
 * hvp(x, v) at any point, with the point of the call added to every error
 * message. A TypeScript problem is called and validated as the gradient
 * checker does (targets.ts); a problem evaluated elsewhere (a Python process)
 * brings its own flat functions.
 *
 * Each call of user code gets a fresh view of its point, so user code that
 * writes into its argument cannot change the next evaluation.
 */
import { type ScalarDefinition, ProblemError } from '../problem';
import { type Evaluations, type MaybePromise, UserCodeError, callUser, noEvaluations, scalarTarget } from '../targets';
import { type Layout, TensorError, describeElement, readLike, readTree, treeOf } from '../tensor';

/** The evaluations of a scalar problem on flat vectors; `batch` null = the full batch. */
export interface FlatFunctions {
  loss(x: Float64Array, batch: number[] | null): MaybePromise<number>;
  gradient(x: Float64Array, batch: number[] | null): MaybePromise<Float64Array>;
  /** Absent when the problem has no hvp. */
  hvp: ((x: Float64Array, v: Float64Array) => MaybePromise<Float64Array>) | null;
  /** f at many points in one call (NaN where it fails or is not finite), where that is cheaper than one call each. */
  lossesOrNaN?(points: Float64Array[]): Promise<number[]>;
  /** Both at one point in one call, where that is cheaper than two (one exchange with another process per optimizer step). */
  lossAndGradient?(x: Float64Array, batch: number[] | null): Promise<{ loss: number; grad: Float64Array }>;
}

export interface FlatProblem {
  name: string;
  layout: Layout;
  /** The problem's own params, flat. */
  params: Float64Array;
  /** Samples when the problem has data (mini-batches), else null. */
  dataSize: number | null;
  functions: FlatFunctions;
  /** Where calls are counted (the functions count their own). */
  evaluations: Evaluations;
}

export class Objective {
  private constructor(private readonly problem: FlatProblem) {}

  /** Reads a scalar problem's params (throws TensorError for malformed ones); an Objective is returned as it is. */
  static of(source: ScalarDefinition | Objective): Objective {
    if (source instanceof Objective) return source;
    if ((source as { kind?: unknown }).kind !== 'scalar') {
      throw new ProblemError(`${String((source as { name?: unknown }).name)}: Hessian analysis needs a scalar problem (params, f, grad), not a layer`);
    }
    const { layout, values } = readTree(source.params, 'params');
    const evaluations = noEvaluations();
    const hvp = source.hvp;
    return Objective.flat({
      name: source.name,
      layout,
      params: values,
      dataSize: source.dataSize,
      evaluations,
      functions: {
        loss: (x, batch) => scalarTarget(source, layout, x, evaluations, batch).value(),
        gradient: (x, batch) => scalarTarget(source, layout, x, evaluations, batch).gradient(),
        hvp: hvp
          ? (x, v) => callUser(evaluations, 'hvp', hvp, [treeOf(layout, x), treeOf(layout, v)], (result) => readLike(result, layout, 'hvp(p, v)', 'params'))
          : null,
      },
    });
  }

  /** A problem evaluated on flat vectors by other means (a Python process). */
  static flat(problem: FlatProblem): Objective {
    if (problem.layout.size === 0) throw new TensorError(`${problem.name}: params has no elements, so there is nothing to optimize or analyze`);
    return new Objective(problem);
  }

  /** Calls made so far, by user function. */
  get evaluations(): Evaluations {
    return this.problem.evaluations;
  }

  get name(): string {
    return this.problem.name;
  }

  get layout(): Layout {
    return this.problem.layout;
  }

  get dataSize(): number | null {
    return this.problem.dataSize;
  }

  get size(): number {
    return this.layout.size;
  }

  get hasHvp(): boolean {
    return this.problem.functions.hvp !== null;
  }

  /** The point to work at: `values` (flat, in the order of params) checked against the layout, else params. Always a copy. */
  point(values?: ArrayLike<number>): Float64Array {
    if (values === undefined) return this.problem.params.slice();
    if (values.length !== this.size) {
      throw new TensorError(`the point has ${values.length} elements, expected ${this.size} (the number of elements of params)`);
    }
    for (let i = 0; i < values.length; i++) {
      const value: unknown = values[i];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TensorError(`the point's element ${i} (${describeElement(this.layout, i)}) is ${String(value)}, expected a finite number`);
      }
    }
    return Float64Array.from(values);
  }

  /**
   * f(x), or f(x, batch) on a mini-batch of sample indices; `where` says which
   * point this is in error messages ("at the point", "with x[0] + 1e-5").
   */
  loss(x: Float64Array, where: string, batch: number[] | null = null): Promise<number> {
    return this.guard(where, () => this.problem.functions.loss(x, batch));
  }

  gradient(x: Float64Array, where: string, batch: number[] | null = null): Promise<Float64Array> {
    return this.guard(where, () => this.problem.functions.gradient(x, batch));
  }

  /** f(x) at each point, NaN where it fails (a contour plot's holes). */
  async lossesOrNaN(points: Float64Array[]): Promise<number[]> {
    const functions = this.problem.functions;
    if (functions.lossesOrNaN) return functions.lossesOrNaN(points);
    const values: number[] = [];
    for (const point of points) values.push(await this.loss(point, 'on the contour grid').catch(() => NaN));
    return values;
  }

  /** f then grad at one point (an optimizer step's evaluations). */
  lossAndGradient(x: Float64Array, where: string, batch: number[] | null = null): Promise<{ loss: number; grad: Float64Array }> {
    const functions = this.problem.functions;
    if (functions.lossAndGradient) {
      const both = functions.lossAndGradient;
      return this.guard(where, () => both(x, batch));
    }
    return this.guard(where, async () => ({ loss: await functions.loss(x, batch), grad: await functions.gradient(x, batch) }));
  }

  /** hvp(x, v) of the problem; only when {@link hasHvp}. */
  hvp(x: Float64Array, v: Float64Array, where: string): Promise<Float64Array> {
    const hvp = this.problem.functions.hvp;
    if (!hvp) throw new Error(`${this.name} has no hvp`);
    return this.guard(where, () => hvp(x, v));
  }

  describe(flat: number): string {
    return describeElement(this.layout, flat);
  }

  /** Adds `where` to the messages of errors about user code. */
  async guard<T>(where: string, call: () => MaybePromise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof UserCodeError || error instanceof TensorError) error.message = `${error.message} ${where}`;
      throw error;
    }
  }
}
