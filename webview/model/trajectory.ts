/**
 * The path of a 2-D run, bounded: every `stride`-th position is kept, and
 * when TRAJECTORY_CAPACITY positions are kept every other one is dropped and
 * the stride doubles. The start and the current position are always exact.
 * (A path has no min and max to preserve; thinning evenly keeps its shape.)
 */
export const TRAJECTORY_CAPACITY = 4096;

export interface SavedTrajectory {
  stride: number;
  seen: number;
  points: number[];
  head: [number, number] | null;
}

export class Trajectory {
  private xs = new Float64Array(256);
  private ys = new Float64Array(256);
  length = 0;
  private stride = 1;
  /** Positions pushed so far. */
  private seen = 0;
  /** The newest position (drawn at the end of the path). */
  head: [number, number] | null = null;

  constructor(private readonly capacity = TRAJECTORY_CAPACITY) {}

  /**
   * The position after `positions` more steps (1: the next one). Those
   * before it are not known (the host folded them, see RecordSpans): the
   * stride first grows to at least `positions`, so that, the host's spans
   * being aligned to their width, none of them would have been kept.
   */
  push(x: number, y: number, positions = 1): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    this.head = [x, y];
    while (this.stride < positions) this.thin();
    this.seen += positions - 1;
    if (this.seen++ % this.stride !== 0) return;
    if (this.length === this.capacity) this.thin();
    if (this.length === this.xs.length) this.grow();
    this.xs[this.length] = x;
    this.ys[this.length] = y;
    this.length++;
  }

  x(i: number): number {
    return this.xs[i];
  }

  y(i: number): number {
    return this.ys[i];
  }

  save(maxPoints: number): SavedTrajectory {
    const step = Math.max(1, Math.ceil(this.length / maxPoints));
    const points: number[] = [];
    for (let i = 0; i < this.length; i += step) points.push(this.xs[i], this.ys[i]);
    return { stride: this.stride * step, seen: this.seen, points, head: this.head };
  }

  static restore(saved: SavedTrajectory): Trajectory {
    const trajectory = new Trajectory();
    for (let i = 0; i + 1 < saved.points.length; i += 2) {
      if (trajectory.length === trajectory.xs.length) trajectory.grow();
      trajectory.xs[trajectory.length] = saved.points[i];
      trajectory.ys[trajectory.length] = saved.points[i + 1];
      trajectory.length++;
    }
    trajectory.stride = saved.stride;
    trajectory.seen = saved.seen;
    trajectory.head = saved.head;
    return trajectory;
  }

  private thin(): void {
    const kept = Math.ceil(this.length / 2);
    for (let i = 0; i < kept; i++) {
      this.xs[i] = this.xs[2 * i];
      this.ys[i] = this.ys[2 * i];
    }
    this.length = kept;
    this.stride *= 2;
  }

  private grow(): void {
    const xs = new Float64Array(Math.min(this.capacity, this.xs.length * 2));
    const ys = new Float64Array(xs.length);
    xs.set(this.xs);
    ys.set(this.ys);
    this.xs = xs;
    this.ys = ys;
  }
}
