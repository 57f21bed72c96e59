/**
 * The contract of Python problem files beyond the basics of python.test.ts: the optional gradlens
 * helper module, mini-batches, functions that write into their arguments (the runner hands them
 * views into the point), and how every way a file or a problem can go wrong is reported (with the
 * same wording as the TypeScript engine where both can fail alike), without taking the caller or
 * the other problems of the file down.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkProblem } from '../../src/core/gradcheck';
import { classifyExport } from '../../src/core/problem';
import { type FileReport, checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY } from './python-env';
import { errorOf } from './report-text';

const ROOT = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/python', name);
const LIMITS = { timeoutSeconds: 10, memoryMb: 4096 };
const skip = WITHOUT_NUMPY;

function check(name: string, options = {}, limits = LIMITS): Promise<FileReport> {
  return checkFile(fixture(name), options, limits, {}, null, PYTHON);
}

/** name → [verdict, error] of every problem, the error's location shortened to `(at file.py:line)`. */
function outcomes(report: FileReport): Record<string, [string, string | null]> {
  assert.equal(report.loadError, null, report.loadError?.message);
  const shortened = (error: string) => error.replace(/\(at (.+):(\d+)\)$/, (_match, file: string, line: string) => `(at ${path.basename(file)}:${line})`);
  return Object.fromEntries(report.problems.map((problem) => [problem.name, [problem.verdict, problem.error ? shortened(errorOf(problem.error)) : null]]));
}

describe('python: the gradlens helper module', { skip }, () => {
  it('resolves beside the runner and builds the plain dicts the runner reads', async () => {
    const report = await check('typed_grad.py');
    // gradlens itself, problem, layer, Params, Problem... are not problems; the five built with them are.
    assert.deepEqual(report.discovered, [
      { name: 'everything', kind: 'scalar', line: 28, secondOrder: true },
      { name: 'noHvp', kind: 'scalar', line: 29, secondOrder: false },
      { name: 'tanh', kind: 'layer', line: 30, secondOrder: false },
      { name: 'annotated', kind: 'scalar', line: 31, secondOrder: false },
      { name: 'viaModule', kind: 'scalar', line: 32, secondOrder: false },
    ]);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict, problem.checked]), [
      ['everything', 'pass', 3],
      ['noHvp', 'pass', 3],
      ['tanh', 'pass', 2],
      ['annotated', 'pass', 3],
      ['viaModule', 'pass', 3],
    ]);
    const secondOrder = await checkFile(fixture('typed_grad.py'), { order: 2, batchSize: 2 }, LIMITS, {}, ['everything'], PYTHON);
    assert.equal(secondOrder.problems[0].verdict, 'pass');
    assert.equal(secondOrder.problems[0].evaluations.hvp, 2);
  });

  it('problem() keeps only the keys given; the module imports nothing but NumPy and the standard library', () => {
    const script = 'import sys; sys.path.insert(0, sys.argv[1]); import json, typing, numpy as np\n'
      + 'before = set(sys.modules)\nimport gradlens\nf = lambda p: 0.0\ng = lambda p: {}\n'
      + 'print(json.dumps([sorted(gradlens.problem(params={}, f=f, grad=g)), sorted(gradlens.problem(params={}, f=f, grad=g, hvp=g, data={"size": 2}, description="d")),\n'
      + '  sorted(gradlens.layer(inputs={}, forward=f, backward=g)), sorted(set(sys.modules) - before)]))';
    const result = spawnSync(PYTHON, ['-c', script, path.join(ROOT, 'python')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const [minimal, full, layerKeys, imported] = JSON.parse(result.stdout) as string[][];
    assert.deepEqual(minimal, ['f', 'grad', 'params']);
    assert.deepEqual(full, ['data', 'description', 'f', 'grad', 'hvp', 'params']);
    assert.deepEqual(layerKeys, ['backward', 'forward', 'inputs']);
    assert.deepEqual(imported, ['gradlens']);
  });
});

describe('python: mini-batches', { skip }, () => {
  it('passes the batch to f and grad as a list of sample indices, the full batch as no batch', async () => {
    // The fixture raises unless the batch is a list of ints in [0, N).
    const full = outcomes(await check('minibatch_grad.py'));
    assert.deepEqual(full, { minibatch: ['pass', null], dataObject: ['pass', null], meanOverAllSamples: ['pass', null] });
    const report = await check('minibatch_grad.py', { batchSize: 3 });
    const [minibatch, dataObject, meanOverAll] = report.problems;
    assert.equal(minibatch.verdict, 'pass', minibatch.error?.message);
    assert.equal(minibatch.batch!.length, 3);
    assert.ok(minibatch.batch!.every((index) => Number.isInteger(index) && index >= 0 && index < 6));
    assert.equal(new Set(minibatch.batch).size, 3);
    assert.equal(dataObject.verdict, 'pass', dataObject.error?.message);
    // Dividing by N instead of the batch size is right on the full batch only: on 3 of 6 samples the
    // gradient is half what it should be, in every element.
    assert.equal(meanOverAll.verdict, 'fail');
    for (const entry of meanOverAll.worst) assert.ok(Math.abs(entry.analytic / entry.numeric - 0.5) < 1e-6, `${entry.element}: ${entry.analytic} / ${entry.numeric}`);
  });

  it('rejects a data size that is not a positive integer, naming the problem and the value', async () => {
    const report = outcomes(await check('bad_data_grad.py'));
    assert.equal(report.fine[0], 'pass');
    // A NumPy integer is an integer (data={"size": len(X)} or X.shape[0] may well be one).
    assert.equal(report.numpySize[0], 'pass');
    for (const [name, value] of [['zeroSize', '0'], ['negativeSize', '-3'], ['textSize', "'8'"], ['noSize', 'None']] as const) {
      assert.equal(report[name][0], 'error', name);
      assert.match(report[name][1]!, new RegExp(`^${name}: data\\['size'\\] is ${value}, expected a positive integer \\(the number of samples\\) \\(at .*bad_data_grad\\.py:\\d+\\)$`));
    }
  });
});

describe('python: failures in problems', { skip }, () => {
  it('non-finite values of f and grad are errors that name where they appeared, as in TypeScript', async () => {
    const report = outcomes(await check('nonfinite_grad.py'));
    assert.deepEqual(report, {
      nanAtPoint: ['error', 'f(p) returned NaN, expected a finite number at the unperturbed point (at nonfinite_grad.py:9)'],
      infWhenPerturbed: ['error', 'f(p) returned Infinity, expected a finite number with w[1] + 0.000001 (at nonfinite_grad.py:10)'],
      numpyInf: ['error', 'f(p) returned -Infinity, expected a finite number at the unperturbed point (at nonfinite_grad.py:11)'],
      nanInGrad: ['error', 'grad(p).W[1,2] is NaN, expected a finite number at the unperturbed point (at nonfinite_grad.py:20)'],
    });
  });

  it('wrong shapes, missing and extra keys, wrong types and sys.exit() are errors of that problem only', async () => {
    const report = await check('malformed_grad.py');
    // Each error is located at the problem's line (the runner cannot tell which line built the bad value).
    assert.deepEqual(outcomes(report), {
      wrongShape: ['error', 'grad(p).W has shape [3,2], expected [2,3] like params.W; the values are right once reshaped (at malformed_grad.py:15)'],
      missingKey: ['error', 'grad(p) has no b, expected one of shape [3] like params.b at the unperturbed point (at malformed_grad.py:16)'],
      extraKey: ['error', 'grad(p) has c, which params does not have at the unperturbed point (at malformed_grad.py:17)'],
      notADict: ['error', 'grad(p) is list, expected a dict with the keys of params at the unperturbed point (at malformed_grad.py:18)'],
      fReturnsArray: ['error', 'f(p) returned an array of shape [3], expected a finite number at the unperturbed point (at malformed_grad.py:19)'],
      fReturnsText: ['error', 'f(p) returned str, expected a finite number at the unperturbed point (at malformed_grad.py:20)'],
      gradText: ['error', 'grad(p).b is str, expected numbers at the unperturbed point (at malformed_grad.py:21)'],
      exits: ['error', 'f threw SystemExit: 3 at the unperturbed point (at malformed_grad.py:22)'],
      // One interpreter checked them all: nothing above ended it.
      fine: ['pass', null],
    });
  });

  it('a memory limit turns an allocation past it into an error of that problem; the caller and the next problem carry on', async () => {
    const limited = outcomes(await check('memory_grad.py', {}, { timeoutSeconds: 10, memoryMb: 512 }));
    assert.deepEqual(limited.allocates, ['error', 'ran out of memory at 512 MB (--memory) (at memory_grad.py:10)']);
    assert.deepEqual(limited.fine, ['pass', null]);
    // The same allocation within the limit is fine: the limit made the difference.
    assert.deepEqual(outcomes(await check('memory_grad.py', {}, { timeoutSeconds: 10, memoryMb: 4096 })).allocates, ['pass', null]);
  });
});

describe('python: functions that write into their arguments', { skip }, () => {
  const written = (element: string, before: number, after: number) => `user code modified its argument: ${element} changed from ${before} to ${after} (copy arrays before changing them)`;
  const dictChanged = 'user code removed or replaced w in its argument (copy the dict before changing it)';

  it('are errors of a check that name the element and its values, as in TypeScript, whatever they write or rebind, and when', async () => {
    const first = await check('mutates_grad.py');
    assert.deepEqual(outcomes(first), {
      zeroes: ['error', `${written('w[0]', 0.5, 0)} (at mutates_grad.py:74)`],
      bumpsFirst: ['error', `${written('w[0]', 0.5, 1.5)} (at mutates_grad.py:75)`],
      doubles: ['error', `${written('W[0,0]', 0.5, 1)} (at mutates_grad.py:76)`],
      refusesMovedPoints: ['error', `${written('w[3]', 0.2, 10)} (at mutates_grad.py:77)`],
      gradZeroes: ['error', `${written('w[0]', 0.5, 0)} (at mutates_grad.py:78)`],
      layerZeroes: ['error', `${written('x[0]', 0.5, 0)} (at mutates_grad.py:80)`],
      rebinds: ['error', `${written('w[0]', 0.5, 0)} (at mutates_grad.py:81)`],
      pops: ['error', `${dictChanged} (at mutates_grad.py:82)`],
      gradPops: ['error', `${dictChanged} (at mutates_grad.py:83)`],
      layerRebinds: ['error', `${written('x[0]', 0.5, 1)} (at mutates_grad.py:85)`],
    });
    // At order 2 grad is what runs at the perturbed points, and it writes into its argument too.
    const second = outcomes(await check('mutates_grad.py', { order: 2 }));
    assert.deepEqual([second.gradZeroes, second.gradPops], [['error', `${written('w[0]', 0.5, 0)} (at mutates_grad.py:78)`], ['error', `${dictChanged} (at mutates_grad.py:83)`]]);
  });

  it('are the same error in TypeScript, for the documented example', async () => {
    const sorts = { params: { w: [2, 1] }, f: (p: { w: number[] }) => p.w[0] ** 2 + 3 * p.w[1], grad: (p: { w: number[] }) => { const g = { w: [2 * p.w[0], 3] }; p.w.sort(); return g; } };
    const typescript = await checkProblem(classifyExport('mutates', sorts)!, {});
    assert.equal(errorOf(typescript.error), written('w[0]', 2, 1));
  });

  it('never move the point of an optimizer run, which does not report them', async () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'optimize', 'test/fixtures/python/mutates_grad.py', '--problem', 'zeroes', '--optimizer', 'sgd', '--lr', '0.1', '--steps', '3', '--json', '--python', PYTHON], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    // w ← w − 0.1 · 3w²: the start point, not the zeros f wrote, moved by three steps.
    let w = [0.5, -0.3, 0.8, 0.2];
    for (let step = 0; step < 3; step++) w = w.map((value) => value - 0.1 * 3 * value * value);
    const final = (JSON.parse(run.stdout) as { final: { params: { w: number[] } } }).final.params.w;
    final.forEach((value, k) => assert.ok(Math.abs(value - w[k]) < 1e-12, `w[${k}]: ${value} vs ${w[k]}`));
  });
});

describe('python: files that cannot be imported', { skip }, () => {
  it('an exception at import names the file and line', async () => {
    const report = await check('import_raises_grad.py');
    assert.deepEqual(report.problems, []);
    assert.match(errorOf(report.loadError), /import_raises_grad\.py:4: RuntimeError: data file not found \(loading .*import_raises_grad\.py\)$/);
  });

  it('running out of memory at import names the file, the line and the limit', async () => {
    const report = await check('import_memory_grad.py', {}, { timeoutSeconds: 10, memoryMb: 512 });
    assert.deepEqual(report.problems, []);
    assert.match(errorOf(report.loadError), /import_memory_grad\.py:4: ran out of memory at 512 MB \(--memory\) while importing import_memory_grad\.py$/);
  });

  it('an exception in a helper module at import names the helper and its line', async () => {
    const report = await check('import_helper_raises_grad.py');
    assert.match(errorOf(report.loadError), /raising_helper\.py:5: KeyError: 'missing column' \(loading .*import_helper_raises_grad\.py\)$/);
  });

  it('a missing module is named, and the CLI exits 2 (nothing could be checked)', async () => {
    const report = await check('import_missing_grad.py');
    assert.match(errorOf(report.loadError), /import_missing_grad\.py:2: cannot import module 'gradlens_no_such_module' \(imported by .*import_missing_grad\.py; is it installed for this interpreter, or beside the file\?\)/);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'check', 'test/fixtures/python/import_missing_grad.py', '--python', PYTHON], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(cli.status, 2, cli.stdout + cli.stderr);
    assert.match(cli.stdout + cli.stderr, /cannot import module 'gradlens_no_such_module'/);
  });
});

describe('python: interpreters', { skip: skip || (process.platform === 'win32' ? 'needs a POSIX shell for the wrapper interpreter' : false) }, () => {
  it('a program that is not Python gets a message that asks whether it is one', async () => {
    const report = await checkFile(fixture('correct_grad.py'), {}, LIMITS, {}, null, '/bin/false');
    assert.match(errorOf(report.loadError), /^the Python runner \(\/bin\/false\) exited with code 1; is '\/bin\/false' a Python 3 interpreter\? Otherwise choose another interpreter/);
  });

  it('an interpreter without NumPy gets a message that says how to fix it', async () => {
    // A wrapper around the real interpreter that puts a numpy package first on the path, one that
    // fails to import: whatever the system has installed, `import numpy` fails as when it is missing.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-no-numpy-'));
    fs.mkdirSync(path.join(folder, 'numpy'));
    fs.writeFileSync(path.join(folder, 'numpy', '__init__.py'), 'raise ImportError("No module named \'numpy\'")\n');
    const wrapper = path.join(folder, 'python-without-numpy');
    fs.writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH='${folder}' exec '${PYTHON}' "$@"\n`, { mode: 0o755 });
    assert.notEqual(spawnSync(wrapper, ['-c', 'import numpy']).status, 0, 'the wrapper hides NumPy');
    const report = await checkFile(fixture('correct_grad.py'), {}, LIMITS, {}, null, wrapper);
    assert.deepEqual(report.problems, []);
    const escaped = wrapper.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(errorOf(report.loadError), new RegExp(`^NumPy is not installed for the Python interpreter '${escaped}': install it \\(${escaped} -m pip install numpy, or apt install python3-numpy for Debian's python3\\), or choose .*--python PATH`));
  });
});
