/**
 * Reads the options of a built-in's `create`, with messages that name the
 * problem, the option and what was expected. Unknown options are errors,
 * so a typo (`conditon`) does not silently fall back to the default.
 */
import type { BuiltinOptions } from './types';

export class OptionReader {
  private readonly known = new Set<string>(['seed']);

  constructor(
    private readonly problem: string,
    private readonly options: BuiltinOptions = {},
  ) {}

  private fail(key: string, expected: string): never {
    throw new RangeError(`${this.problem}: option ${key} is ${describe(this.options[key])}, expected ${expected}`);
  }

  private value(key: string): unknown {
    this.known.add(key);
    return this.options[key];
  }

  /** A finite number (an integer if asked) that is at least `min`. */
  number(key: string, fallback: number, rule: { min?: number; integer?: boolean } = {}): number {
    const value = this.value(key);
    if (value === undefined) return fallback;
    const { min = -Infinity, integer = false } = rule;
    const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
    if (!ok) this.fail(key, `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}`);
    return value as number;
  }

  /** The seed of the problem's `Random` (data, initialization). */
  seed(): number {
    return this.number('seed', 0, { integer: true });
  }

  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.value(key);
    if (value === undefined) return fallback;
    if (!choices.includes(value as T)) this.fail(key, `one of ${choices.map((c) => `'${c}'`).join(', ')}`);
    return value as T;
  }

  /** A vector of finite numbers of the given length, copied. */
  vector(key: string, fallback: readonly number[], length: number): number[] {
    const value = this.value(key);
    if (value === undefined) return fallback.slice();
    const ok = Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!ok) this.fail(key, `${length} finite numbers`);
    return (value as number[]).slice();
  }

  /** Call after reading every option: rejects the ones this problem does not have. */
  done(): void {
    const unknown = Object.keys(this.options).filter((key) => !this.known.has(key) && this.options[key] !== undefined);
    if (unknown.length > 0) {
      throw new RangeError(`${this.problem}: unknown option ${unknown.join(', ')} (options: ${[...this.known].join(', ')})`);
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(String).join(', ')}]`;
  return String(value);
}
