/**
 * The JSON schema of the `gradlens.optimizer.hyperparameters` setting, made
 * from the rules' own hyper-parameter specs, so settings.json completes
 * torch's names per optimizer. package.json holds a copy (VS Code reads the
 * schema from there); a unit test keeps it equal to this one, and
 * `npm run settings-schema` rewrites it.
 */
import { findOptimizer, optimizerNames } from './index';
import type { HyperValue, HyperparameterSpec } from './optimizer';

export type JsonSchema = { [key: string]: unknown };

function valueSchema(spec: HyperparameterSpec, fallback: HyperValue): JsonSchema {
  const described = { description: spec.description, default: fallback };
  switch (spec.kind) {
    case 'boolean':
      return { type: 'boolean', ...described };
    case 'pair':
      return { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, ...described };
    case 'choice':
      return { enum: [...(spec.choices ?? [])], ...described };
    default:
      // `null` where the default is null: "unset", e.g. L-BFGS's max_eval = max_iter·5/4.
      return { type: spec.default === null ? [spec.kind, 'null'] : spec.kind, ...described };
  }
}

/** `{ type: 'object', properties: { adam: { properties: { lr: …, betas: … } }, … } }`, presets with their own defaults. */
export function hyperparameterSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const name of optimizerNames()) {
    const choice = findOptimizer(name)!;
    const specs: Record<string, JsonSchema> = {};
    for (const spec of choice.optimizer.hyperparameters) specs[spec.name] = valueSchema(spec, choice.preset[spec.name] ?? spec.default);
    properties[name] = { type: 'object', description: choice.optimizer.summary, properties: specs, additionalProperties: false };
  }
  return { type: 'object', properties, additionalProperties: false };
}
