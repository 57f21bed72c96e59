import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type CheckOptions, DEFAULT_CHECK_OPTIONS } from '../../src/core/gradcheck';
import { DEFAULT_LIMITS } from '../../src/runner/supervisor';
import { RENAMED_SETTINGS, readSettings } from '../../src/extension/settings';
import { DEFAULT_PROBLEM_GLOB } from '../../src/runner/problem-files';
import { findOptimizer, optimizerNames } from '../../src/core/optim';
import { hyperparameterSchema } from '../../src/core/optim/schema';
import { parseCheckArgs } from '../../src/cli/args';

// The manifest as VS Code reads it (tests run from out/test/unit).
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Record<string, unknown>> } };
};
const contributed = manifest.contributes.configuration.properties;
// Descriptions are %keys% of package.nls.json (English).
const nls = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.nls.json'), 'utf8')) as Record<string, string>;
const localized = (text: unknown) => String(text).replace(/^%([^%]+)%$/, (_, key: string) => nls[key] ?? `missing ${key}`);

/** Check options without what each command decides itself (the order) or the host always asks for. */
function settingsPart(options: CheckOptions): Partial<CheckOptions> {
  const part: Partial<CheckOptions> = { ...options };
  delete part.order;
  delete part.elementErrors;
  return part;
}

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('extension settings', () => {
  it('defaults to the engine defaults when nothing is set', () => {
    const { settings, problems } = readSettings(from({}));
    assert.deepEqual(problems, []);
    assert.equal(settings.problemFiles, DEFAULT_PROBLEM_GLOB);
    assert.deepEqual(settings.check, settingsPart(DEFAULT_CHECK_OPTIONS));
    assert.equal(settings.recordEvery, 1);
    assert.equal(settings.codeLens, true);
    assert.deepEqual(settings.limits, DEFAULT_LIMITS);
    assert.equal(settings.optimizer, 'adam');
    assert.equal(settings.pythonPath, null);
  });

  it('takes valid values', () => {
    const { settings, problems } = readSettings(from({
      'check.mode': 'fast', 'check.eps': 1e-4, 'check.seed': 7, timeoutSeconds: 2, 'optimizer.default': 'Nesterov',
      'optimizer.hyperparameters': { adam: { lr: 0.01, betas: [0.8, 0.99] } }, 'optimizer.recordEvery': 10,
      'check.samples': 50, 'check.projections': 4, 'check.worst': 3, 'check.nondeterminismTolerance': 1e-12, 'check.strict': true, 'check.batchSize': 16,
      'codeLens.enabled': false,
    }));
    assert.deepEqual(problems, []);
    assert.equal(settings.check.mode, 'fast');
    assert.equal(settings.check.eps, 1e-4);
    assert.equal(settings.check.seed, 7);
    assert.equal(settings.limits.timeoutSeconds, 2);
    assert.equal(settings.optimizer, 'nesterov');
    assert.deepEqual(settings.hyperparameters, { adam: { lr: 0.01, betas: [0.8, 0.99] } });
    assert.equal(settings.recordEvery, 10);
    assert.equal(settings.codeLens, false);
    assert.deepEqual(
      [settings.check.samples, settings.check.projections, settings.check.worst, settings.check.nondetTolerance, settings.check.strict, settings.check.batchSize],
      [50, 4, 3, 1e-12, true, 16],
    );
    assert.equal(readSettings(from({ 'check.batchSize': null })).settings.check.batchSize, null);
    assert.equal(readSettings(from({ pythonPath: ' /opt/venv/bin/python ' })).settings.pythonPath, '/opt/venv/bin/python');
    assert.equal(readSettings(from({ pythonPath: '' })).settings.pythonPath, null);
  });

  it('replaces each bad value by its default and names setting, value and fallback', () => {
    const { settings, problems } = readSettings(from({
      'check.eps': -1, 'check.mode': 'exhaustive', 'check.seed': 1.5, memoryLimitMb: 'lots', problemFiles: '',
      'optimizer.default': 'adamm', 'optimizer.hyperparameters': { adam: { lr: -1 }, sgd: { nope: 1 }, foo: {}, rmsprop: { centered: 'yes' }, adamw: { betas: [0.9] } }, pythonPath: 3,
      'check.samples': 0, 'check.strict': 'true', 'check.batchSize': 2.5, 'check.nondeterminismTolerance': -1e-9, 'codeLens.enabled': 1,
    }));
    assert.equal(settings.check.eps, DEFAULT_CHECK_OPTIONS.eps);
    assert.equal(settings.check.mode, 'full');
    assert.equal(settings.limits.memoryMb, DEFAULT_LIMITS.memoryMb);
    assert.deepEqual(settings.hyperparameters, {});
    assert.deepEqual(problems, [
      'gradlens.problemFiles must be a non-empty glob pattern, got ""; using "**/{*.grad.ts,*.grad.mts,*.grad.js,*.grad.mjs,*_grad.py,*.grad.py}"',
      'gradlens.check.mode must be "full", "fast" or "sparse", got "exhaustive"; using "full"',
      'gradlens.check.eps must be a positive number, got -1; using 0.000001',
      'gradlens.check.seed must be an integer ≥ 0, got 1.5; using 0',
      'gradlens.check.samples must be an integer ≥ 1, got 0; using 20',
      'gradlens.check.nondeterminismTolerance must be a number ≥ 0, got -1e-9; using 0',
      'gradlens.check.strict must be true or false, got "true"; using false',
      'gradlens.check.batchSize must be null (the full batch) or an integer ≥ 1, got 2.5; using null',
      'gradlens.memoryLimitMb must be an integer ≥ 64, got "lots"; using 4096',
      'gradlens.optimizer.default must name an optimizer (sgd, adagrad, rmsprop, adadelta, adam, adamw, adamax, nadam, radam, lbfgs, newton, momentum, nesterov), got "adamm"; using "adam"',
      'gradlens.codeLens.enabled must be true or false, got 1; using true',
      'gradlens.pythonPath must be a path to a Python interpreter, got 3; using ""',
      'gradlens.optimizer.hyperparameters.adam: lr must be >= 0, got -1; using the torch defaults',
      'gradlens.optimizer.hyperparameters.sgd: sgd has no hyper-parameter nope (it has lr, momentum, dampening, weight_decay, nesterov, maximize, lookahead); using the torch defaults',
      'gradlens.optimizer.hyperparameters.foo: names no optimizer; using the torch defaults',
      'gradlens.optimizer.hyperparameters.rmsprop: centered must be true or false, got "yes"; using the torch defaults',
      'gradlens.optimizer.hyperparameters.adamw: betas must be two numbers like [0.9, 0.999], got [0.9]; using the torch defaults',
    ]);
  });

  it('still reads a renamed setting while its new name is unset, and says so', () => {
    const set = (values: Record<string, unknown>) => (key: string) => key in values;
    const old = readSettings(from({ 'telemetry.every': 5 }), set({ 'telemetry.every': 5 }));
    assert.equal(old.settings.recordEvery, 5);
    assert.deepEqual(old.deprecated, [{ old: 'telemetry.every', replacement: 'optimizer.recordEvery', value: 5 }]);
    // The new name wins once set; its contributed default alone (get returns it, but it is not set) does not.
    const both = { 'telemetry.every': 5, 'optimizer.recordEvery': 20 };
    assert.equal(readSettings(from(both), set(both)).settings.recordEvery, 20);
    assert.deepEqual(readSettings(from(both), set(both)).deprecated, []);
    assert.equal(readSettings(from({ 'telemetry.every': 5, 'optimizer.recordEvery': 1 }), set({ 'telemetry.every': 5 })).settings.recordEvery, 5);
    // A bad old value is named by its own (old) name.
    assert.deepEqual(readSettings(from({ 'telemetry.every': 0 }), set({ 'telemetry.every': 0 })).problems, ['gradlens.telemetry.every must be an integer ≥ 1, got 0; using 1']);
    for (const [oldKey, newKey] of Object.entries(RENAMED_SETTINGS)) {
      const entry = contributed[`gradlens.${oldKey}`];
      assert.ok(entry, `gradlens.${oldKey} stays contributed, so settings.json shows its deprecation`);
      assert.match(localized(entry.deprecationMessage), new RegExp(`gradlens\\.${newKey.replace('.', '\\.')}`));
      assert.match(localized(entry.markdownDeprecationMessage), new RegExp(`#gradlens\\.${newKey.replace('.', '\\.')}#`));
      assert.equal(entry.default, undefined, 'no default: an unset old name must not look set');
      assert.ok(contributed[`gradlens.${newKey}`], `gradlens.${newKey} is contributed`);
    }
  });
});

describe('contributed settings (package.json)', () => {
  it('cover every knob of `gradlens check` that a setting can hold, with the CLI defaults', () => {
    // Flags that are no setting: the file's problems, the order (its own command), output format, help,
    // and --python (the Python extension's interpreter, else gradlens.pythonPath).
    const perCommand = new Set(['problem', 'order', 'json', 'help', 'python']);
    const flagToSetting: Record<string, string> = {
      mode: 'check.mode', eps: 'check.eps', atol: 'check.atol', rtol: 'check.rtol', seed: 'check.seed', samples: 'check.samples',
      projections: 'check.projections', worst: 'check.worst', 'nondet-tol': 'check.nondeterminismTolerance', strict: 'check.strict',
      'batch-size': 'check.batchSize', timeout: 'timeoutSeconds', memory: 'memoryLimitMb', jobs: 'jobs',
    };
    const usage = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'src', 'cli', 'args.ts'), 'utf8');
    const flags = [...usage.matchAll(/^ {2}--([a-z-]+)/gm)].map((match) => match[1]);
    assert.ok(flags.length >= 15, `the usage lists the flags (${flags.join(', ')})`);
    for (const flag of flags) {
      if (perCommand.has(flag)) continue;
      const key = flagToSetting[flag];
      assert.ok(key, `--${flag} has a setting`);
      const entry = contributed[`gradlens.${key}`];
      assert.ok(entry, `gradlens.${key} is contributed`);
      assert.equal(entry.scope, 'resource', `gradlens.${key} is read per file`);
    }
    // The contributed defaults are the CLI's (the engine's) defaults.
    const cli = parseCheckArgs(['x.grad.ts'])!;
    const { settings } = readSettings((key) => contributed[`gradlens.${key}`]?.default);
    assert.deepEqual(settings.check, settingsPart(cli.options));
    assert.equal(settings.limits.timeoutSeconds, cli.limits.timeoutSeconds);
    assert.equal(settings.limits.memoryMb, cli.limits.memoryMb);
  });

  it('names only settings that exist', () => {
    const descriptions = Object.entries(nls).filter(([key]) => key.startsWith('config.')).map(([, text]) => text);
    const text = JSON.stringify(manifest.contributes.configuration) + JSON.stringify(descriptions);
    const named = new Set([...text.matchAll(/gradlens\.[A-Za-z.]+[A-Za-z]/g)].map((match) => match[0]));
    for (const name of named) assert.ok(contributed[name], `${name} is named in a description but not contributed`);
  });

  it('complete torch names per optimizer: the hyper-parameter schema is the optimizers\' own (npm run settings-schema rewrites it)', () => {
    const setting = contributed['gradlens.optimizer.hyperparameters'];
    const schema = hyperparameterSchema();
    assert.deepEqual({ type: setting.type, properties: setting.properties, additionalProperties: setting.additionalProperties }, schema, 'package.json differs: run npm run settings-schema');
    const properties = schema.properties as Record<string, { properties: Record<string, { default: unknown; type?: unknown; enum?: unknown[] }> }>;
    assert.deepEqual(Object.keys(properties).sort(), optimizerNames().sort());
    // Independent of the generator: torch's own names and defaults (torch.optim docs).
    assert.deepEqual(Object.keys(properties.adam.properties).slice(0, 4), ['lr', 'betas', 'eps', 'weight_decay']);
    assert.equal(properties.adam.properties.lr.default, 0.001);
    assert.deepEqual(properties.adam.properties.betas.default, [0.9, 0.999]);
    assert.equal(properties.sgd.properties.momentum.default, 0);
    assert.equal(properties.momentum.properties.momentum.default, 0.9, 'a preset shows its own default');
    assert.deepEqual(properties.lbfgs.properties.line_search_fn.enum, [null, 'strong_wolfe']);
    assert.deepEqual(properties.lbfgs.properties.max_eval.type, ['integer', 'null']);
    for (const name of optimizerNames()) {
      const specs = findOptimizer(name)!.optimizer.hyperparameters.map((spec) => spec.name);
      assert.deepEqual(Object.keys(properties[name].properties), specs, `${name}: every hyper-parameter, in order`);
    }
  });
});
