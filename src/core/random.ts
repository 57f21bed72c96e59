/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32).
 * The state is four plain uint32s so it can be saved and restored.
 */
export class Random {
  private readonly state: Uint32Array;

  constructor(seed: number | readonly number[]) {
    this.state = new Uint32Array(4);
    if (typeof seed === 'number') {
      let s = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        // splitmix32 (Vigna) spreads a small seed over the whole state.
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.state[i] = (z ^ (z >>> 16)) >>> 0;
      }
    } else {
      this.state.set(seed.slice(0, 4));
    }
  }

  /** The state, for saving: `new Random(saved)` continues the same sequence. */
  snapshot(): number[] {
    return Array.from(this.state);
  }

  /** Next uint32 (xoshiro128**, Blackman & Vigna 2018). */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, bound). */
  integer(bound: number): number {
    return Math.floor(this.uniform() * bound);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** `count` distinct integers from [0, bound), ascending. */
  sample(bound: number, count: number): number[] {
    const k = Math.min(count, bound);
    if (k * 3 < bound) {
      // Sparse draw: rejection is cheap and needs no array of size `bound`.
      const chosen = new Set<number>();
      while (chosen.size < k) chosen.add(this.integer(bound));
      return Array.from(chosen).sort((a, b) => a - b);
    }
    const all = Array.from({ length: bound }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.integer(bound - i);
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, k).sort((a, b) => a - b);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
