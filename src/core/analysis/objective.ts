/**
 * A scalar problem seen as a function of one flat vector: f(x), grad(x) and
 * hvp(x, v) at any point, called and validated as the gradient checker does
 * (targets.ts), with the point of the call added to every error message.
 *
 * Each call gets a fresh view of its point, so user code that writes into its
 * argument cannot change the next evaluation.
 */
import { type ScalarDefinition, ProblemError } from '../problem';
import { type Evaluations, type MaybePromise, UserCodeError, callUser, noEvaluations, scalarTarget } from '../targets';
import { type Layout, TensorError, describeElement, readLike, readTree, treeOf } from '../tensor';

export class Objective {
  /** Calls made so far, by user function. */
  readonly evaluations: Evaluations = noEvaluations();

  private constructor(
    readonly definition: ScalarDefinition,
    readonly layout: Layout,
    /** The problem's own params, flat. */
    readonly params: Float64Array,
  ) {}

  /** Reads a scalar problem's params (throws TensorError for malformed ones); an Objective is returned as it is. */
  static of(source: ScalarDefinition | Objective): Objective {
    if (source instanceof Objective) return source;
    if ((source as { kind?: unknown }).kind !== 'scalar') {
      throw new ProblemError(`${String((source as { name?: unknown }).name)}: Hessian analysis needs a scalar problem (params, f, grad), not a layer`);
    }
    const { layout, values } = readTree(source.params, 'params');
    if (layout.size === 0) throw new TensorError(`${source.name}: params has no elements, so there is no Hessian to analyze`);
    return new Objective(source, layout, values);
  }

  get name(): string {
    return this.definition.name;
  }

  get size(): number {
    return this.layout.size;
  }

  get hasHvp(): boolean {
    return this.definition.hvp !== null;
  }

  /** The point to work at: `values` (flat, in the order of params) checked against the layout, else params. Always a copy. */
  point(values?: ArrayLike<number>): Float64Array {
    if (values === undefined) return this.params.slice();
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
    return this.guard(where, () => scalarTarget(this.definition, this.layout, x, this.evaluations, batch).value());
  }

  gradient(x: Float64Array, where: string, batch: number[] | null = null): Promise<Float64Array> {
    return this.guard(where, () => scalarTarget(this.definition, this.layout, x, this.evaluations, batch).gradient());
  }

  /** hvp(x, v) of the problem; only when {@link hasHvp}. */
  hvp(x: Float64Array, v: Float64Array, where: string): Promise<Float64Array> {
    const hvp = this.definition.hvp;
    if (!hvp) throw new Error(`${this.name} has no hvp`);
    const layout = this.layout;
    return this.guard(where, () =>
      callUser(this.evaluations, 'hvp', hvp, [treeOf(layout, x), treeOf(layout, v)], (result) => readLike(result, layout, 'hvp(p, v)', 'params')),
    );
  }

  describe(flat: number): string {
    return describeElement(this.layout, flat);
  }

  private async guard<T>(where: string, call: () => MaybePromise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof UserCodeError || error instanceof TensorError) error.message = `${error.message} ${where}`;
      throw error;
    }
  }
}
