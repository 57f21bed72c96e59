/**
 * L-BFGS as torch.optim.LBFGS (lbfgs.py, after minFunc), ported line by line
 * on the flat parameter vector: one `step` is one `step(closure)` with up to
 * max_iter inner iterations, optional strong-Wolfe line search, and torch's
 * termination tests (tolerance_grad 1e-7, tolerance_change 1e-9).
 * Full batch only: the curvature pairs assume one fixed objective.
 */
import { type Hyperparameters, LR, type Closure, type Optimizer, nonNegative, positive } from './optimizer';
import { dot } from '../vector';

export interface LbfgsHyperparameters extends Hyperparameters {
  lr: number;
  max_iter: number;
  /** null: max_iter · 5 / 4 (integer division), as torch. */
  max_eval: number | null;
  tolerance_grad: number;
  tolerance_change: number;
  history_size: number;
  line_search_fn: string | null;
}

export interface LbfgsState {
  funcEvals: number;
  nIter: number;
  d: Float64Array | null;
  t: number;
  oldDirs: Float64Array[];
  oldStps: Float64Array[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Float64Array | null;
  prevLoss: number | null;
  /** The step length of the last iteration, for telemetry. */
  lastStepSize: number;
}

function maxAbs(vector: Float64Array): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]));
  return max;
}

/** x + t·d into a new vector. */
function moved(x: Float64Array, t: number, d: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + t * d[i];
  return out;
}

/** Minimizer of the cubic through (x1, f1, g1), (x2, f2, g2), within bounds (torch's _cubic_interpolate, from polyinterp.lua). */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2;
}

type Evaluate = (x: Float64Array, t: number, d: Float64Array) => Promise<{ loss: number; grad: Float64Array }>;

/** torch's _strong_wolfe (from lswolfe.lua): returns the new loss, gradient, step and evaluation count. */
export async function strongWolfe(
  evaluate: Evaluate,
  x: Float64Array,
  initialStep: number,
  d: Float64Array,
  f: number,
  g: Float64Array,
  gtd: number,
  c1 = 1e-4,
  c2 = 0.9,
  toleranceChange = 1e-9,
  maxLineSearch = 25,
): Promise<{ loss: number; grad: Float64Array; step: number; evaluations: number }> {
  let t = initialStep;
  const dNorm = maxAbs(d);
  let { loss: fNew, grad: gNew } = await evaluate(x, t, d);
  let evaluations = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let iteration = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Float64Array[] = [];
  let bracketGtd: number[] = [];
  while (iteration < maxLineSearch) {
    if (fNew > f + c1 * t * gtd || (iteration > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = previous;
    fPrev = fNew;
    gPrev = gNew;
    gtdPrev = gtdNew;
    ({ loss: fNew, grad: gNew } = await evaluate(x, t, d));
    evaluations += 1;
    gtdNew = dot(gNew, d);
    iteration += 1;
  }
  if (iteration === maxLineSearch) {
    [bracket, bracketF, bracketG] = [[0, t], [f, fNew], [g, gNew]];
  }
  // Zoom: refine the bracket until a point satisfies the strong Wolfe conditions.
  let insufficientProgress = false;
  let [low, high] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && iteration < maxLineSearch) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const top = Math.max(...bracket);
    const bottom = Math.min(...bracket);
    const eps = 0.1 * (top - bottom);
    if (Math.min(top - t, t - bottom) < eps) {
      if (insufficientProgress || t >= top || t <= bottom) {
        t = Math.abs(t - top) < Math.abs(t - bottom) ? top - eps : bottom + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ loss: fNew, grad: gNew } = await evaluate(x, t, d));
    evaluations += 1;
    gtdNew = dot(gNew, d);
    iteration += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]) {
      bracket[high] = t;
      bracketF[high] = fNew;
      bracketG[high] = gNew;
      bracketGtd[high] = gtdNew;
      [low, high] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low];
        bracketF[high] = bracketF[low];
        bracketG[high] = bracketG[low];
        bracketGtd[high] = bracketGtd[low];
      }
      bracket[low] = t;
      bracketF[low] = fNew;
      bracketG[low] = gNew;
      bracketGtd[low] = gtdNew;
    }
  }
  return { loss: bracketF[low], grad: bracketG[low], step: bracket[low], evaluations };
}

async function lbfgsStep(
  params: Float64Array,
  initialLoss: number,
  initialGrad: Float64Array,
  hyper: LbfgsHyperparameters,
  state: LbfgsState,
  closure: Closure,
): Promise<number> {
  const lr = hyper.lr;
  const maxIter = hyper.max_iter;
  const maxEval = hyper.max_eval ?? Math.floor((maxIter * 5) / 4);
  const { tolerance_grad: toleranceGrad, tolerance_change: toleranceChange, history_size: historySize } = hyper;
  let loss = initialLoss;
  let flatGrad: Float64Array = initialGrad.slice();
  let extraEvaluations = 0;
  let currentEvals = 1;
  state.funcEvals += 1;
  if (maxAbs(flatGrad) <= toleranceGrad) return 0;
  let { d, t, oldDirs, oldStps, ro, hDiag, prevFlatGrad, prevLoss } = state;
  let iteration = 0;
  while (iteration < maxIter) {
    iteration += 1;
    state.nIter += 1;
    if (state.nIter === 1) {
      d = flatGrad.map((value) => -value);
      oldDirs = [];
      oldStps = [];
      ro = [];
      hDiag = 1;
    } else {
      const y = flatGrad.map((value, i) => value - prevFlatGrad![i]);
      const s = d!.map((value) => value * t);
      const ys = dot(y, s);
      if (ys > 1e-10) {
        if (oldDirs.length === historySize) {
          oldDirs.shift();
          oldStps.shift();
          ro.shift();
        }
        oldDirs.push(y);
        oldStps.push(s);
        ro.push(1 / ys);
        hDiag = ys / dot(y, y);
      }
      // Two-loop recursion: the approximate inverse Hessian times −g.
      const al = new Array<number>(oldDirs.length);
      const q = flatGrad.map((value) => -value);
      for (let i = oldDirs.length - 1; i >= 0; i--) {
        al[i] = dot(oldStps[i], q) * ro[i];
        const direction = oldDirs[i];
        for (let k = 0; k < q.length; k++) q[k] += -al[i] * direction[k];
      }
      const r = q.map((value) => value * hDiag);
      for (let i = 0; i < oldDirs.length; i++) {
        const beta = dot(oldDirs[i], r) * ro[i];
        const step = oldStps[i];
        for (let k = 0; k < r.length; k++) r[k] += (al[i] - beta) * step[k];
      }
      d = r;
    }
    prevFlatGrad = flatGrad.slice();
    prevLoss = loss;
    let sumAbs = 0;
    for (let i = 0; i < flatGrad.length; i++) sumAbs += Math.abs(flatGrad[i]);
    t = state.nIter === 1 ? Math.min(1, 1 / sumAbs) * lr : lr;
    const gtd = dot(flatGrad, d);
    if (gtd > -toleranceChange) break;
    let lineSearchEvaluations = 0;
    let optimal = false;
    if (hyper.line_search_fn === 'strong_wolfe') {
      const start = params.slice();
      const result = await strongWolfe(async (x, step, direction) => closure.evaluate(moved(x, step, direction)), start, t, d, loss, flatGrad, gtd);
      ({ loss, grad: flatGrad, step: t, evaluations: lineSearchEvaluations } = result);
      for (let i = 0; i < params.length; i++) params[i] += t * d[i];
      optimal = maxAbs(flatGrad) <= toleranceGrad;
    } else {
      for (let i = 0; i < params.length; i++) params[i] += t * d[i];
      if (iteration !== maxIter) {
        // Re-evaluated only when another iteration follows, as in torch.
        ({ loss, grad: flatGrad } = await closure.evaluate(params));
        optimal = maxAbs(flatGrad) <= toleranceGrad;
        lineSearchEvaluations = 1;
      }
    }
    extraEvaluations += lineSearchEvaluations;
    currentEvals += lineSearchEvaluations;
    state.funcEvals += lineSearchEvaluations;
    state.lastStepSize = t;
    if (iteration === maxIter || currentEvals >= maxEval || optimal) break;
    let change = 0;
    for (let i = 0; i < d.length; i++) change = Math.max(change, Math.abs(d[i] * t));
    if (change <= toleranceChange) break;
    if (Math.abs(loss - prevLoss) < toleranceChange) break;
  }
  Object.assign(state, { d, t, oldDirs, oldStps, ro, hDiag, prevFlatGrad, prevLoss });
  return extraEvaluations;
}

export const lbfgs: Optimizer<LbfgsHyperparameters, LbfgsState> = {
  name: 'lbfgs',
  summary: 'limited-memory BFGS quasi-Newton steps, optionally with a strong-Wolfe line search (torch.optim.LBFGS)',
  adaptive: false,
  fullBatch: true,
  hyperparameters: [
    LR(1),
    { name: 'max_iter', kind: 'integer', default: 20, check: positive, description: 'inner iterations per step' },
    { name: 'max_eval', kind: 'integer', default: null, check: positive, description: 'evaluations per step (default max_iter·5/4)' },
    { name: 'tolerance_grad', kind: 'number', default: 1e-7, check: nonNegative, description: 'stop when max |g| is below' },
    { name: 'tolerance_change', kind: 'number', default: 1e-9, check: nonNegative, description: 'stop when the loss or step changes less' },
    { name: 'history_size', kind: 'integer', default: 100, check: positive, description: 'curvature pairs kept' },
    { name: 'line_search_fn', kind: 'choice', default: null, choices: [null, 'strong_wolfe'], description: 'line search' },
  ],
  init: () => ({ funcEvals: 0, nIter: 0, d: null, t: 0, oldDirs: [], oldStps: [], ro: [], hDiag: 1, prevFlatGrad: null, prevLoss: null, lastStepSize: 0 }),
  async step(context, state) {
    const evaluations = await lbfgsStep(context.params, context.loss, context.grad, { ...context.hyper, lr: context.lr }, state, context.closure);
    context.effectiveLearningRate?.fill(state.lastStepSize);
    return { evaluations, stepSize: state.lastStepSize };
  },
};
