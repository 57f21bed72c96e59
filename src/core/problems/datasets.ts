/** Seeded synthetic data sets for the data problems: nothing is downloaded. */
import type { Random } from '../random';
import { dot } from './matrix';

/** Samples as rows of `x`; `y` holds a target value (regression) or a class index. */
export interface Dataset {
  x: number[][];
  y: number[];
}

/** `count` evenly spaced values from `start` to `end` inclusive (numpy's linspace). */
function linspace(start: number, end: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (count === 1 ? start : start + ((end - start) * k) / (count - 1)));
}

/**
 * Linear regression data: x ~ N(0, I), y = w·x + b + noise·N(0, 1) with true
 * weights w ~ N(0, I) and bias b ~ N(0, 1), all drawn from `random`.
 */
export function linearData(random: Random, samples: number, features: number, noise: number): Dataset & { w: number[]; b: number } {
  const w = Array.from({ length: features }, () => random.normal());
  const b = random.normal();
  const x = Array.from({ length: samples }, () => Array.from({ length: features }, () => random.normal()));
  const y = x.map((row) => dot(w, row) + b + noise * random.normal());
  return { x, y, w, b };
}

/**
 * Gaussian blobs in 2-D: class k has `perClass` points around the center at
 * angle π/4 + 2πk/classes on a circle of `radius`, with standard deviation
 * `spread` per coordinate. Labels are 0..classes−1, in blocks.
 */
export function blobs(random: Random, perClass: number, classes: number, radius = 2, spread = 1): Dataset {
  const x: number[][] = [];
  const y: number[] = [];
  for (let k = 0; k < classes; k++) {
    const angle = Math.PI / 4 + (2 * Math.PI * k) / classes;
    for (let i = 0; i < perClass; i++) {
      x.push([radius * Math.cos(angle) + spread * random.normal(), radius * Math.sin(angle) + spread * random.normal()]);
      y.push(k);
    }
  }
  return { x, y };
}

/**
 * CS231n's spiral (cs231n.github.io/neural-networks-case-study): class j
 * has radii linspace(0, 1) and angles linspace(4j, 4(j+1)) + noise·N(0, 1),
 * at (r sin t, r cos t). Not linearly separable.
 */
export function spiral(random: Random, perClass = 100, classes = 3, noise = 0.2): Dataset {
  const x: number[][] = [];
  const y: number[] = [];
  for (let j = 0; j < classes; j++) {
    const radii = linspace(0, 1, perClass);
    const angles = linspace(4 * j, 4 * (j + 1), perClass);
    for (let i = 0; i < perClass; i++) {
      const t = angles[i] + noise * random.normal();
      x.push([radii[i] * Math.sin(t), radii[i] * Math.cos(t)]);
      y.push(j);
    }
  }
  return { x, y };
}

/**
 * The sample indices of a mini-batch, or every index when `batch` is absent:
 * data problems return the mean over these. Rejects empty batches and
 * indices outside [0, size).
 */
export function batchIndices(batch: readonly number[] | undefined, size: number): readonly number[] {
  if (batch === undefined) return Array.from({ length: size }, (_, i) => i);
  if (batch.length === 0) throw new RangeError('batch is empty: the mean over no samples is undefined');
  for (const index of batch) {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`batch index ${index} is not a sample index in [0, ${size})`);
    }
  }
  return batch;
}
