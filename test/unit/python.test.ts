import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkProblem } from '../../src/core/gradcheck';
import { classifyExport } from '../../src/core/problem';
import { decodeFloats, encodeFloats } from '../../src/runner/python/encoding';
import { resolveInterpreter } from '../../src/runner/python/session';
import { checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY } from './python-env';
import { errorOf } from './report-text';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(root, 'test/fixtures/python', name);
const limits = { timeoutSeconds: 10, memoryMb: 4096 };
const skip = WITHOUT_NUMPY;

describe('python problem files', { skip }, () => {
  it('passes correct problems: dicts, objects with attributes, layers, a helper module beside the file', async () => {
    const report = await checkFile(fixture('correct_grad.py'), {}, limits, {}, null, PYTHON);
    assert.equal(report.loadError, null);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.kind, problem.line, problem.verdict]), [
      ['softmax', 'scalar', 13, 'pass'],
      ['quadratic', 'scalar', 37, 'pass'],
      ['relu', 'layer', 39, 'pass'],
    ]);
    const softmax = report.problems[0];
    assert.equal(softmax.size, 15);
    assert.deepEqual(softmax.evaluations, { f: 32, grad: 2, hvp: 0, forward: 0, backward: 0 });
  });

  it('names the one wrong element, with full mode in a few round trips', async () => {
    const report = await checkFile(fixture('buggy_grad.py'), {}, limits, {}, null, PYTHON);
    const [linear] = report.problems;
    assert.equal(linear.verdict, 'fail');
    assert.equal(linear.failed, 1);
    assert.equal(linear.worst[0].element, 'W[2,3]');
    assert.ok(Math.abs(linear.worst[0].analytic - linear.worst[0].numeric - 0.5) < 1e-6);
    assert.equal(linear.evaluations.f, 2 * 20 + 2);
    // load, f, grad, one bulk plan, f, grad again
    assert.equal(report.exchanges, 6);
  });

  it('finds the same element in sparse and fast mode', async () => {
    for (const mode of ['sparse', 'fast'] as const) {
      const report = await checkFile(fixture('buggy_grad.py'), { mode, samples: 20 }, limits, {}, null, PYTHON);
      assert.equal(report.problems[0].verdict, 'fail', mode);
      assert.equal(report.problems[0].worst[0].element, 'W[2,3]', mode);
    }
  });

  it('checks hvp against grad at order 2', async () => {
    const report = await checkFile(fixture('correct_grad.py'), { order: 2 }, limits, {}, ['quadratic'], PYTHON);
    assert.equal(report.problems[0].verdict, 'pass');
    assert.equal(report.problems[0].evaluations.hvp, 2);
  });

  it('a full check of 10,000 parameters is a constant number of round trips', async () => {
    const report = await checkFile(fixture('large_grad.py'), {}, limits, {}, null, PYTHON);
    assert.equal(report.problems[0].verdict, 'pass');
    assert.equal(report.problems[0].evaluations.f, 20_002);
    // load, f, grad, two small timed plans (does the check fit its time limit?), at most 16 bulk plans, f, grad again.
    assert.ok(report.exchanges <= 1 + 4 + 2 + 16, `${report.exchanges} round trips`);
  });

  it('gives the same verdicts and element errors as the same problem in TypeScript', async () => {
    const W = [[1, -2, 0.5], [0.25, 3, -1]];
    const b = [0.1, -0.2, 0.3];
    const source = `import numpy as np\nW0 = np.array(${JSON.stringify(W)}); b0 = np.array(${JSON.stringify(b)})\n` +
      'twin = {"params": {"W": W0.copy(), "b": b0.copy()},\n' +
      ' "f": lambda p: float(np.sum(np.sin(p["W"])) + np.sum(p["b"] ** 3)),\n' +
      ' "grad": lambda p: {"W": np.cos(p["W"]) + (p["W"] > 2.9) * 0.01, "b": 3 * p["b"] ** 2}}\n';
    const fs = await import('node:fs');
    const os = await import('node:os');
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-py-'));
    const file = path.join(folder, 'twin_grad.py');
    fs.writeFileSync(file, source);
    const python = (await checkFile(file, {}, limits, {}, null, PYTHON)).problems[0];
    const ts = await checkProblem(classifyExport('twin', {
      params: { W: W.map((row) => row.slice()), b: b.slice() },
      f: (p: { W: number[][]; b: number[] }) => {
        let s = 0;
        for (const row of p.W) for (const v of row) s += Math.sin(v);
        let t = 0;
        for (const v of p.b) t += v ** 3;
        return s + t;
      },
      grad: (p: { W: number[][]; b: number[] }) => ({ W: p.W.map((row) => row.map((v) => Math.cos(v) + (v > 2.9 ? 0.01 : 0))), b: p.b.map((v) => 3 * v * v) }),
    })!);
    assert.equal(python.verdict, ts.verdict);
    assert.equal(python.verdict, 'fail');
    // NumPy's SIMD sin and V8's Math.sin may differ in the last bits: compare the verdicts of the elements
    // and their numbers to a tolerance, not the order of elements whose errors differ only by rounding.
    const byElement = (result: typeof ts) => new Map(result.worst.map((entry) => [entry.element, entry]));
    const pythonElements = byElement(python);
    assert.deepEqual([...pythonElements.keys()].sort(), [...byElement(ts).keys()].sort());
    for (const entry of ts.worst) {
      const twin = pythonElements.get(entry.element)!;
      assert.equal(twin.passed, entry.passed, entry.element);
      assert.ok(Math.abs(twin.numeric - entry.numeric) < 1e-8, entry.element);
    }
    assert.equal(python.worst[0].element, ts.worst[0].element, 'the one wrong element comes first');
  });

  it('reports an exception in f with the Python file and line and the perturbed element', async () => {
    const report = await checkFile(fixture('raises_grad.py'), {}, limits, {}, null, PYTHON);
    const [problem] = report.problems;
    assert.equal(problem.verdict, 'error');
    assert.match(errorOf(problem.error), /^f threw ValueError: w\[1\] too large with w\[1\] \+ 0\.000001 \(at .*raises_grad\.py:6\)$/);
  });

  it('times out a hung problem at its line and checks the rest in a fresh interpreter', async () => {
    const started = Date.now();
    const report = await checkFile(fixture('hangs_grad.py'), {}, { timeoutSeconds: 1, memoryMb: 4096 }, {}, null, PYTHON);
    assert.ok(Date.now() - started < 8000);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['hangs', 'error'], ['fine', 'pass']]);
    assert.match(errorOf(report.problems[0].error), /timed out after 1 s \(--timeout\) while checking hangs, in _f \(at .*hangs_grad\.py:6\)/);
  });

  it('an interpreter that dies in user code fails that problem, and a fresh runner checks the rest', async () => {
    const report = await checkFile(fixture('crashes_grad.py'), {}, limits, {}, null, PYTHON);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['crashes', 'error'], ['fine', 'pass']]);
    const [crashed] = report.problems;
    assert.deepEqual([crashed.error?.kind, crashed.error?.location?.file, crashed.error?.location?.line], ['runner', fixture('crashes_grad.py'), 11]);
    assert.match(crashed.error!.message, /^the Python runner \(.*\) exited with code 5 while checking crashes$/);
  });

  it('cancels a running check without waiting on the interpreter', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const report = await checkFile(fixture('hangs_grad.py'), {}, { timeoutSeconds: 60, memoryMb: 4096 }, { signal: controller.signal }, ['hangs'], PYTHON);
    assert.ok(Date.now() - started < 5000);
    assert.equal(report.cancelled, true);
  });

  it('reports a syntax error at its file and line', async () => {
    const report = await checkFile(fixture('syntax_error_grad.py'), {}, limits, {}, null, PYTHON);
    assert.equal(report.problems.length, 0);
    assert.match(errorOf(report.loadError), /syntax_error_grad\.py:[56]: SyntaxError/);
  });

  it('says how to fix a missing interpreter', async () => {
    const report = await checkFile(fixture('correct_grad.py'), {}, limits, {}, null, '/nonexistent/python3');
    assert.match(errorOf(report.loadError), /Python interpreter '\/nonexistent\/python3' not found: .*or choose another interpreter \(--python PATH or the environment variable GRADLENS_PYTHON\)$/);
  });

  it('without a chosen interpreter, replaces a python3 without NumPy by a later one on the PATH that has it', { skip: WITHOUT_NUMPY || process.platform === 'win32' }, () => {
    // A python3 first on the PATH that answers as the runner does when `import numpy` fails; Debian's python3 after it.
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-bare-python-'));
    fs.writeFileSync(path.join(directory, 'python3'), '#!/bin/sh\necho "gradlens-runner: numpy missing: No module named numpy" >&2\nexit 3\n', { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: [directory, path.dirname(PYTHON), process.env.PATH].join(path.delimiter) };
    delete env.GRADLENS_PYTHON;
    const check = (...flags: string[]) => spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'check', 'test/fixtures/python/buggy_grad.py', ...flags, '--json'], { cwd: root, encoding: 'utf8', env });
    const report = JSON.parse(check().stdout) as { problems: { verdict: string; worst: { element: string }[] }[] };
    assert.deepEqual(report.problems.map((problem) => [problem.verdict, problem.worst[0].element]), [['fail', 'W[2,3]']]);
    // A chosen interpreter is never replaced: its missing NumPy is the answer.
    const chosen = check('--python', path.join(directory, 'python3'));
    assert.equal(chosen.status, 2);
    assert.match(JSON.parse(chosen.stdout).errors[0].error, /^NumPy is not installed for the Python interpreter '.*gradlens-bare-python-.*python3'/);
    fs.rmSync(directory, { recursive: true });
  });

  it('the CLI checks .py files with the same JSON as TS files', () => {
    const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'check', 'test/fixtures/python/buggy_grad.py', '--python', PYTHON, '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { problems: { name: string; line: number; verdict: string; worst: { element: string }[] }[] };
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.line, problem.verdict, problem.worst[0].element]), [['linear', 13, 'fail', 'W[2,3]']]);
  });
});

describe('python transport', () => {
  it('float64 arrays round-trip through base64 exactly, NaN and subnormals included', () => {
    const values = new Float64Array([0, -0, 1e-310, Math.PI, NaN, Infinity, -1.5e300]);
    assert.deepEqual(decodeFloats(encodeFloats(values)), values);
  });

  it('chooses --python, else GRADLENS_PYTHON, else python3', () => {
    const numpyFile = fixture('correct_grad.py');
    assert.equal(resolveInterpreter('/a/python', numpyFile, { GRADLENS_PYTHON: '/b/python' }), '/a/python');
    assert.equal(resolveInterpreter(null, numpyFile, { GRADLENS_PYTHON: '/b/python' }), '/b/python');
    assert.equal(resolveInterpreter(null, numpyFile, {}), 'python3');
  });

  it('for a file that imports torch, passes over a python3 on the PATH without torch for one with it', { skip: process.platform === 'win32' }, () => {
    // Two fake interpreters answer the probe: the first on the PATH lacks the modules (exit 3), the second has them.
    const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-pythons-'));
    const [without, withTorch] = ['without', 'with'].map((name, index) => {
      const directory = path.join(temporary, name);
      fs.mkdirSync(directory);
      fs.writeFileSync(path.join(directory, 'python3'), `#!/bin/sh\nexit ${index === 0 ? 3 : 0}\n`, { mode: 0o755 });
      return directory;
    });
    const torchFile = path.join(temporary, 'net_grad.py');
    fs.writeFileSync(torchFile, 'import math\nfrom torch.autograd import Function\n');
    const env = { PATH: [without, withTorch, process.env.PATH].join(path.delimiter) };
    assert.equal(resolveInterpreter(null, torchFile, env), path.join(withTorch, 'python3'));
    // The user's choice always wins, and files without torch keep python3 without asking.
    assert.equal(resolveInterpreter('/a/python', torchFile, env), '/a/python');
    assert.equal(resolveInterpreter(null, fixture('correct_grad.py'), env), 'python3');
    fs.rmSync(temporary, { recursive: true });
  });
});
