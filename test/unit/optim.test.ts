import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import type { Hyperparameters, Closure } from '../../src/core/optim/optimizer';

/** f(x) = Σ aᵢxᵢ²/2 + bᵢxᵢ: gradient aᵢxᵢ + bᵢ. */
function quadratic(a: number[], b: number[]): Closure & { loss(x: Float64Array): number; gradient(x: Float64Array): Float64Array } {
  const loss = (x: Float64Array) => x.reduce((sum, v, i) => sum + (a[i] * v * v) / 2 + b[i] * v, 0);
  const gradient = (x: Float64Array) => x.map((v, i) => a[i] * v + b[i]);
  return {
    loss,
    gradient,
    evaluate: async (x) => ({ loss: loss(x), grad: gradient(x) }),
    hessianVectorProduct: async (_x, v) => v.map((value, i) => a[i] * value),
  };
}

/** Runs `steps` steps of the named optimizer from x0; returns every iterate and the last effective rates. */
async function run(name: string, given: Hyperparameters, x0: number[], objective: ReturnType<typeof quadratic>, steps: number) {
  const choice = findOptimizer(name)!;
  const hyper = resolveHyperparameters(choice, given);
  const params = Float64Array.from(x0);
  const state = choice.optimizer.init(params.length, hyper);
  const effective = new Float64Array(params.length);
  const iterates: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const grad = objective.gradient(params);
    await choice.optimizer.step({ params, grad, loss: objective.loss(params), lr: hyper.lr as number, hyper, closure: objective, effectiveLearningRate: effective }, state);
    iterates.push(Array.from(params));
  }
  return { iterates, effective: Array.from(effective), state };
}

const close = (actual: number, expected: number, tolerance = 1e-14) =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`);

describe('first steps, derived by hand', () => {
  // One dimension, f = x²/2 + x... use a = [2], b = [-1]: g(x) = 2x − 1; at x0 = 2, g = 3.
  const objective = quadratic([2], [-1]);

  it('SGD: x1 = x0 − γg; momentum: b1 = g, b2 = μb1 + g2; Nesterov adds μb', async () => {
    const plain = await run('sgd', { lr: 0.1 }, [2], objective, 1);
    close(plain.iterates[0][0], 2 - 0.1 * 3);
    const heavy = await run('momentum', { lr: 0.1 }, [2], objective, 2);
    const x1 = 2 - 0.1 * 3;
    const g1 = 2 * x1 - 1;
    close(heavy.iterates[1][0], x1 - 0.1 * (0.9 * 3 + g1));
    const nesterov = await run('nesterov', { lr: 0.1 }, [2], objective, 2);
    const y1 = 2 - 0.1 * (3 + 0.9 * 3);
    const h1 = 2 * y1 - 1;
    close(nesterov.iterates[1][0], y1 - 0.1 * (h1 + 0.9 * (0.9 * 3 + h1)));
    const damped = await run('sgd', { lr: 0.1, momentum: 0.5, dampening: 0.5, weight_decay: 0.1 }, [2], objective, 2);
    const d1 = 2 - 0.1 * (3 + 0.1 * 2);
    const e1 = 2 * d1 - 1 + 0.1 * d1;
    close(damped.iterates[1][0], d1 - 0.1 * (0.5 * 3.2 + 0.5 * e1));
  });

  it("SGD look-ahead (course Nesterov): v ← μv − γ∇f(x + μv), x ← x + v", async () => {
    const result = await run('sgd', { lr: 0.1, momentum: 0.9, lookahead: true }, [2], objective, 2);
    const v1 = -0.1 * 3;
    const x1 = 2 + v1;
    const v2 = 0.9 * v1 - 0.1 * (2 * (x1 + 0.9 * v1) - 1);
    close(result.iterates[0][0], x1);
    close(result.iterates[1][0], x1 + v2);
  });

  it('Adam: the first step is γ·g/(|g| + ε) whatever the betas', async () => {
    for (const betas of [[0.9, 0.999], [0.5, 0.8]]) {
      const result = await run('adam', { lr: 0.01, betas }, [2], objective, 1);
      close(result.iterates[0][0], 2 - (0.01 * 3) / (3 + 1e-8));
      // Per unit of the first moment m: (γ/(1 − β1ᵗ)) / (√v/√(1 − β2ᵗ) + ε).
      close(result.effective[0], 0.01 / (1 - betas[0]) / (3 + 1e-8));
    }
    // Without bias correction: m = 0.1g, v = 0.001g² → step γ·0.1g/(√0.001·|g| + ε).
    const raw = await run('adam', { lr: 0.01, bias_correction: false }, [2], objective, 1);
    close(raw.iterates[0][0], 2 - (0.01 * 0.1 * 3) / (Math.sqrt(0.001 * 9) + 1e-8), 1e-13);
  });

  it('Adam second step from the moments; AMSGrad keeps the larger raw second moment', async () => {
    // lr 1.5 lands x1 near the minimum 0.5, so g2 ≈ 0 and v shrinks: v2 = β2·v1 + (1 − β2)·g2² < v1.
    const [b1, b2, lr, eps] = [0.9, 0.999, 1.5, 1e-8];
    const x1 = 2 - (lr * 3) / (3 + eps);
    const g2 = 2 * x1 - 1;
    const m = 0.9 * 0.1 * 3 + 0.1 * g2;
    const v1 = 0.001 * 9;
    const v = 0.999 * v1 + 0.001 * g2 * g2;
    assert.ok(v < v1);
    const step = (second: number) => x1 - (lr / (1 - b1 ** 2)) * (m / (Math.sqrt(second) / Math.sqrt(1 - b2 ** 2) + eps));
    close((await run('adam', { lr }, [2], objective, 2)).iterates[1][0], step(v), 1e-13);
    close((await run('adam', { lr, amsgrad: true }, [2], objective, 2)).iterates[1][0], step(v1), 1e-13);
    assert.notEqual(step(v), step(v1));
  });

  it('AdamW decays the weights before the Adam step; with weight_decay 0 it is Adam', async () => {
    const result = await run('adamw', { lr: 0.01, weight_decay: 0.5 }, [2], objective, 1);
    close(result.iterates[0][0], 2 * (1 - 0.01 * 0.5) - (0.01 * 3) / (3 + 1e-8));
    assert.deepEqual((await run('adamw', { weight_decay: 0 }, [2], objective, 5)).iterates, (await run('adam', {}, [2], objective, 5)).iterates);
  });

  it('Adagrad: x1 = x0 − γg/(|g| + ε), then γ/(1 + lr_decay)·g2/(√(g1² + g2²) + ε)', async () => {
    const result = await run('adagrad', { lr: 0.1, lr_decay: 0.5, initial_accumulator_value: 0.25 }, [2], objective, 2);
    const x1 = 2 - (0.1 * 3) / (Math.sqrt(0.25 + 9) + 1e-10);
    const g2 = 2 * x1 - 1;
    close(result.iterates[0][0], x1);
    close(result.iterates[1][0], x1 - (0.1 / 1.5) * (g2 / (Math.sqrt(0.25 + 9 + g2 * g2) + 1e-10)));
    close(result.effective[0], (0.1 / 1.5) / (Math.sqrt(0.25 + 9 + g2 * g2) + 1e-10));
  });

  it('RMSprop: v = (1 − α)g², x1 = x0 − γg/(√v + ε); centered subtracts the mean gradient', async () => {
    close((await run('rmsprop', { lr: 0.01 }, [2], objective, 1)).iterates[0][0], 2 - (0.01 * 3) / (Math.sqrt(0.01 * 9) + 1e-8));
    const centered = await run('rmsprop', { lr: 0.01, alpha: 0.9, centered: true }, [2], objective, 1);
    close(centered.iterates[0][0], 2 - (0.01 * 3) / (Math.sqrt(0.1 * 9 - 0.3 * 0.3) + 1e-8));
    const momentum = await run('rmsprop', { lr: 0.01, momentum: 0.5 }, [2], objective, 2);
    const x1 = 2 - (0.01 * 3) / (Math.sqrt(0.09) + 1e-8);
    const g2 = 2 * x1 - 1;
    const b2 = 0.5 * (3 / (Math.sqrt(0.09) + 1e-8)) + g2 / (Math.sqrt(0.99 * 0.09 + 0.01 * g2 * g2) + 1e-8);
    close(momentum.iterates[1][0], x1 - 0.01 * b2);
  });

  it('Adadelta: Δ = √(0 + ε)/√((1 − ρ)g² + ε)·g', async () => {
    const result = await run('adadelta', {}, [2], objective, 1);
    close(result.iterates[0][0], 2 - (Math.sqrt(1e-6) / Math.sqrt(0.1 * 9 + 1e-6)) * 3);
  });

  it('Adamax: u = |g| + ε, x1 = x0 − (γ/(1 − β1))·(1 − β1)g/u', async () => {
    close((await run('adamax', {}, [2], objective, 1)).iterates[0][0], 2 - (0.002 / 0.1) * ((0.1 * 3) / (3 + 1e-8)), 1e-13);
  });

  it('NAdam: the documented μ schedule and product', async () => {
    const [lr, b1, psi, eps] = [0.002, 0.9, 0.004, 1e-8];
    const mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi));
    const mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi));
    const denominator = Math.sqrt((0.001 * 9) / 0.001) + eps;
    const expected = 2 - ((lr * (1 - mu1)) / (1 - mu1)) * (3 / denominator) - ((lr * mu2) / (1 - mu1 * mu2)) * ((0.1 * 3) / denominator);
    close((await run('nadam', {}, [2], objective, 1)).iterates[0][0], expected, 1e-13);
  });

  it('RAdam: plain bias-corrected momentum while ρₜ ≤ 5, rectified after', async () => {
    const result = await run('radam', { lr: 0.01 }, [2], objective, 6);
    close(result.iterates[0][0], 2 - 0.01 * 3);
    // ρₜ for β2 = 0.999: ρ∞ = 1999; ρ₆ = 1999 − 12·0.999⁶/(1 − 0.999⁶) ≈ 5.01 > 5, ρ₅ ≈ 4.0.
    const rhoInf = 2 / 0.001 - 1;
    const rho = (t: number) => rhoInf - (2 * t * 0.999 ** t) / (1 - 0.999 ** t);
    assert.ok(rho(5) <= 5 && rho(6) > 5);
    assert.ok(result.effective[0] !== 0.01 / (1 - 0.9 ** 6), 'step 6 is rectified');
  });
});

describe('L-BFGS', () => {
  it('solves a quadratic with a strong-Wolfe line search in one step(closure)', async () => {
    const a = [1, 4, 9, 16, 25];
    const b = [1, -2, 3, -4, 5];
    const objective = quadratic(a, b);
    const result = await run('lbfgs', { line_search_fn: 'strong_wolfe', max_iter: 50 }, [0, 0, 0, 0, 0], objective, 1);
    result.iterates[0].forEach((x, i) => close(x, -b[i] / a[i], 1e-6));
  });

  it('takes the first iterate as torch does: t = min(1, 1/‖g‖₁)·lr along −g', async () => {
    const objective = quadratic([2], [-1]);
    const result = await run('lbfgs', { max_iter: 1 }, [2], objective, 1);
    close(result.iterates[0][0], 2 - Math.min(1, 1 / 3) * 3);
  });
});

describe('hyper-parameters', () => {
  it('uses torch names and defaults, presets, and refuses bad values with the name', () => {
    assert.deepEqual(resolveHyperparameters(findOptimizer('adam')!, {}), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, bias_correction: true });
    assert.equal(resolveHyperparameters(findOptimizer('nesterov')!, {}).nesterov, true);
    assert.throws(() => resolveHyperparameters(findOptimizer('sgd')!, { lr: -1 }), /lr must be >= 0, got -1/);
    assert.throws(() => resolveHyperparameters(findOptimizer('adam')!, { betas: [0.9, 1] }), /betas must be two numbers in \[0, 1\)/);
    assert.throws(() => resolveHyperparameters(findOptimizer('sgd')!, { nesterov: true }), /nesterov needs momentum > 0/);
    assert.throws(() => resolveHyperparameters(findOptimizer('adam')!, { momentum: 0.9 }), /adam has no hyper-parameter momentum/);
    assert.equal(findOptimizer('adagrad ')?.name, undefined);
  });
});

describe("Newton's method", () => {
  it('solves a quadratic in one step: x* = −A⁻¹b, effective rates γ·(A⁻¹)ᵢᵢ', async () => {
    const a = [1, 4, 10];
    const b = [2, -2, 5];
    const result = await run('newton', {}, [3, 3, 3], quadratic(a, b), 1);
    result.iterates[0].forEach((x, i) => close(x, -b[i] / a[i], 1e-12));
    result.effective.forEach((rate, i) => close(rate, 1 / a[i], 1e-12));
  });

  it('damping shrinks the step: (A + λI)⁻¹', async () => {
    const result = await run('newton', { damping: 1 }, [3], quadratic([1], [0]), 1);
    close(result.iterates[0][0], 3 - (1 * 3) / 2);
  });

  it('warns at a saddle and steps with |eigenvalues| instead of climbing', async () => {
    const choice = findOptimizer('newton')!;
    const hyper = resolveHyperparameters(choice, {});
    // f = x²/2 − y²/2 at (1, 1): the Newton step would jump to the saddle (0, 0); saddle-free moves y away.
    const objective = quadratic([1, -1], [0, 0]);
    const params = Float64Array.from([1, 1]);
    const state = choice.optimizer.init(2, hyper);
    const step = await choice.optimizer.step({ params, grad: objective.gradient(params), loss: 0, lr: 1, hyper, closure: objective, effectiveLearningRate: null }, state);
    assert.match(step.warning!, /not positive definite \(smallest eigenvalue -1\.00\)/);
    assert.deepEqual(Array.from(params), [0, 2]);
  });
});
