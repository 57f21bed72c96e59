/**
 * A long stream kept in bounded memory: every stride-th item, the stride
 * doubling (and every other item kept dropped) whenever `limit` would be
 * passed, so what is kept stays evenly spread over the whole stream; the
 * newest item is kept too. For a run's records where the whole history is
 * not wanted (a table of twenty rows, a dashboard replay).
 */
export class ThinnedHistory<T> {
  private kept: T[] = [];
  private stride = 1;
  private seen = 0;
  private newest: T | null = null;

  constructor(private readonly limit: number) {}

  add(item: T): void {
    this.newest = item;
    if (this.seen++ % this.stride !== 0) return;
    this.kept.push(item);
    if (this.kept.length > this.limit) {
      this.kept = this.kept.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  /** How many items were added. */
  get count(): number {
    return this.seen;
  }

  /** What is kept, oldest first, the newest item last. */
  items(): T[] {
    const newest = this.newest;
    return newest === null || this.kept[this.kept.length - 1] === newest ? [...this.kept] : [...this.kept, newest];
  }
}
