/**
 * Hyper-parameters as text: one value (CLI flags, dashboard edits) or a
 * whole set as `lr=0.01 betas=0.9,0.999 amsgrad=true` (the extension's
 * input box, pre-filled with the defaults).
 */
import type { HyperValue, Hyperparameters, HyperparameterSpec } from './optimizer';

/** Parses one value of `spec`; throws a RangeError saying what was expected (without the name). */
export function parseHyperValue(spec: HyperparameterSpec, text: string): HyperValue {
  const trimmed = text.trim();
  switch (spec.kind) {
    case 'boolean':
      if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
      throw new RangeError(`must be true or false, got '${text}'`);
    case 'pair': {
      const values = trimmed.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
      if (values.length !== 2 || values.some((value) => !Number.isFinite(value))) throw new RangeError(`must be two numbers like 0.9,0.999, got '${text}'`);
      return values;
    }
    case 'choice':
      if (trimmed === 'none' || trimmed === 'null') return null;
      if (!spec.choices?.includes(trimmed)) throw new RangeError(`must be one of ${spec.choices?.map((choice) => choice ?? 'none').join(', ')}, got '${text}'`);
      return trimmed;
    default: {
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value) || (spec.kind === 'integer' && !Number.isInteger(value))) {
        throw new RangeError(`must be ${spec.kind === 'integer' ? 'a whole number' : 'a number'}, got '${text}'`);
      }
      return value;
    }
  }
}

export function formatHyperValue(value: HyperValue): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** `name=value` pairs separated by spaces; unknown names and bad values throw a RangeError naming them. */
export function parseHyperparameterText(specs: readonly HyperparameterSpec[], text: string): Hyperparameters {
  const hyper: Hyperparameters = {};
  for (const token of text.trim().split(/\s+/).filter((part) => part !== '')) {
    const separator = token.indexOf('=');
    if (separator <= 0) throw new RangeError(`'${token}' is not name=value (e.g. lr=0.01)`);
    const name = token.slice(0, separator);
    const spec = specs.find((candidate) => candidate.name === name);
    if (!spec) throw new RangeError(`no hyper-parameter ${name} (there are ${specs.map((candidate) => candidate.name).join(', ')})`);
    try {
      hyper[name] = parseHyperValue(spec, token.slice(separator + 1));
    } catch (error) {
      throw new RangeError(`${name} ${(error as Error).message}`);
    }
  }
  return hyper;
}

export function formatHyperparameterText(hyper: Hyperparameters): string {
  return Object.entries(hyper).map(([name, value]) => `${name}=${formatHyperValue(value)}`).join(' ');
}
