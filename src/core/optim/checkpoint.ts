/**
 * Run state as JSON: optimizer states are plain objects of numbers and
 * Float64Arrays; this turns them into JSON-safe values and back, exactly
 * (Float64Arrays become { float64: [...] }, non-finite numbers { number: "Infinity" }).
 */

type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

export function toPlain(value: unknown): Plain {
  if (value instanceof Float64Array) return { float64: Array.from(value, (element) => toPlain(element)) };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { number: String(value) };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([key, entry]) => [key, toPlain(entry)]));
  throw new TypeError(`cannot save a ${typeof value} in a checkpoint`);
}

export function fromPlain(value: Plain): unknown {
  if (Array.isArray(value)) return value.map(fromPlain);
  if (value !== null && typeof value === 'object') {
    if (Array.isArray(value.float64)) return Float64Array.from(value.float64.map((element) => fromPlain(element) as number));
    if (typeof value.number === 'string' && Object.keys(value).length === 1) return Number(value.number);
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, fromPlain(entry)]));
  }
  return value;
}
