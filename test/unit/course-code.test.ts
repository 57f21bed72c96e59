/**
 * Course code as it is (CS231n, EECS498): layer pairs with a cache, multi-output steps, losses that return their
 * gradient with wrt, models with a params dict. The examples in examples/python/cs231n_*_grad.py are checked through
 * `gradlens check FILE.py --json` and their verdicts and exact sets of wrong elements compared with a truth from torch
 * autograd (test/oracle/course_autograd.py: re-implementations of every forward and loss in torch, against the
 * user's own backward, no finite differences); then what course code does that the check must take as it is, and
 * the ways it goes wrong.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileReport, type ProblemReport, checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY, WITHOUT_TORCH } from './python-env';
import { errorOf } from './report-text';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'examples/python');
const ORACLE = path.join(ROOT, 'test/oracle/course_autograd.py');
const fixture = (name: string) => path.join(ROOT, 'test/fixtures', name);
const LIMITS = { timeoutSeconds: 60, memoryMb: 4096 };

interface Truth {
  passed: boolean;
  wrong: string[];
}

interface JsonProblem {
  name: string;
  kind: string;
  verdict: string;
  failedElements: string[];
  error: string | null;
}

function gradlens(...args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args, '--python', PYTHON], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function byName(report: FileReport): Map<string, ProblemReport> {
  assert.equal(report.loadError, null, report.loadError?.message);
  return new Map(report.problems.map((problem) => [problem.name, problem]));
}

/**
 * `run`, and the calls of the fixture's counted functions during it, by name: they append their names to the file
 * named by $GRADLENS_TEST_CALLS, which the runner process and its interpreter inherit.
 */
async function countingCalls<T>(run: () => T | Promise<T>): Promise<{ result: T; calls: Record<string, number> }> {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-calls-')), 'calls.txt');
  process.env.GRADLENS_TEST_CALLS = log;
  try {
    const result = await run();
    const calls: Record<string, number> = {};
    for (const name of fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) calls[name] = (calls[name] ?? 0) + 1;
    return { result, calls };
  } finally {
    delete process.env.GRADLENS_TEST_CALLS;
  }
}

describe('course code agrees with torch autograd', { skip: WITHOUT_TORCH }, () => {
  const files = ['cs231n_layers_grad.py', 'cs231n_rnn_grad.py', 'cs231n_losses_grad.py', 'cs231n_model_grad.py'];

  for (const name of files) {
    it(`${name}: gradlens check --json gives autograd's verdict and exact set of wrong elements`, () => {
      const file = path.join(EXAMPLES, name);
      const oracle = spawnSync(PYTHON, [ORACLE, file], { encoding: 'utf8' });
      assert.equal(oracle.status, 0, oracle.stderr);
      const truth = JSON.parse(oracle.stdout) as Record<string, Truth>;
      const run = gradlens('check', file, '--json');
      assert.equal(run.status, 1, run.stderr);
      const problems = (JSON.parse(run.stdout) as { problems: JsonProblem[] }).problems;
      // Every problem of the file is judged, and the file has correct and buggy ones: the comparison is not vacuous.
      assert.deepEqual(problems.map((problem) => problem.name).sort(), Object.keys(truth).sort());
      assert.ok(Object.values(truth).some((entry) => entry.passed) && Object.values(truth).some((entry) => !entry.passed), name);
      for (const problem of problems) {
        const expected = truth[problem.name];
        assert.equal(problem.error, null, `${problem.name}: ${problem.error}`);
        assert.equal(problem.verdict === 'pass', expected.passed, `${problem.name}: GradLens ${problem.verdict}, autograd ${expected.passed ? 'agrees' : 'disagrees'} with the user's gradient`);
        assert.deepEqual([...problem.failedElements].sort(), [...expected.wrong].sort(), problem.name);
      }
    });
  }
});

describe('course code: the conventions', { skip: WITHOUT_NUMPY }, () => {
  it('layer pairs are layers, losses and models scalar problems, as the Test Explorer lists them before the file runs', async () => {
    const report = await checkFile(path.join(EXAMPLES, 'cs231n_rnn_grad.py'), {}, LIMITS, {}, [], PYTHON);
    assert.deepEqual(report.discovered!.map(({ name, kind, secondOrder }) => [name, kind, secondOrder]), [
      ['rnn_step', 'layer', false],
      ['rnn_step_db_without_tanh', 'layer', false],
      ['lstm_step', 'layer', false],
      ['lstm_step_without_forget_gate', 'layer', false],
      ['word_embedding', 'layer', false],
      ['word_embedding_buffered', 'layer', false],
      ['temporal_softmax', 'scalar', false],
    ]);
  });

  it('names elements by the keys of inputs and params, checks only float arrays (wrt among them), and skips order 2', async () => {
    const layers = byName(await checkFile(path.join(EXAMPLES, 'cs231n_layers_grad.py'), { worst: 1000 }, LIMITS, {}, ['conv', 'dropout'], PYTHON));
    // x, w, b of the convolution; conv_param is a constant.
    assert.equal(layers.get('conv')!.size, 2 * 2 * 4 * 4 + 3 * 2 * 3 * 3 + 3);
    assert.deepEqual(new Set(layers.get('conv')!.worst.map((element) => element.param)), new Set(['x', 'w', 'b']));
    assert.equal(layers.get('dropout')!.size, 20);
    const losses = byName(await checkFile(path.join(EXAMPLES, 'cs231n_losses_grad.py'), {}, LIMITS, {}, ['svm_naive'], PYTHON));
    // W only: X is a float array too, but not in wrt.
    assert.equal(losses.get('svm_naive')!.size, 5 * 4);
    assert.match(losses.get('svm_naive')!.worst[0].element, /^W\[\d,\d\]$/);
    const model = byName(await checkFile(path.join(EXAMPLES, 'cs231n_model_grad.py'), { worst: 100 }, LIMITS, {}, ['two_layer_net'], PYTHON));
    assert.deepEqual(new Set(model.get('two_layer_net')!.worst.map((element) => element.param)), new Set(['W1', 'b1', 'W2', 'b2']));
    assert.ok(model.get('two_layer_net')!.worst.some((element) => element.element === 'W1[2,3]'));
    const second = await checkFile(path.join(EXAMPLES, 'cs231n_rnn_grad.py'), { order: 2 }, LIMITS, {}, ['lstm_step', 'temporal_softmax'], PYTHON);
    assert.deepEqual(second.problems.map((problem) => [problem.verdict, problem.note]), [
      ['skipped', 'no derivative of backward: this layer has no second-order check'],
      ['skipped', 'no hvp: nothing to check at order 2'],
    ]);
  });

  it('runs forward once per evaluation, in a few round trips whatever the size', async () => {
    const file = fixture('python/course_conventions_grad.py');
    const layer = await countingCalls(() => checkFile(file, {}, LIMITS, {}, ['counted'], PYTHON));
    const [counted] = layer.result.problems;
    const n = 3 * 4 + 4 * 2 + 2;
    assert.equal(counted.verdict, 'pass');
    assert.deepEqual(counted.evaluations, { f: 0, grad: 0, hvp: 0, forward: 2 * n + 2, backward: 2 });
    // Each backward evaluation makes its own forward call for the cache; nothing else calls forward.
    assert.deepEqual(layer.calls, { affine_forward: 2 * n + 2 + 2, affine_backward: 2 });
    // load, forward, backward, one bulk plan of the 2n perturbed forwards, forward and backward again.
    assert.equal(layer.result.exchanges, 6);
    const loss = await countingCalls(() => checkFile(file, {}, LIMITS, {}, ['counted_loss'], PYTHON));
    assert.deepEqual(loss.result.problems[0].evaluations, { f: 12, grad: 2, hvp: 0, forward: 0, backward: 0 });
    assert.deepEqual(loss.calls, { square_loss: 14 });
    // An optimizer step is one call of the loss (its value and its gradient together), and the final loss one more.
    const optimized = await countingCalls(() => gradlens('optimize', file, '--problem', 'counted_loss', '--optimizer', 'sgd', '--lr', '0.1', '--steps', '5'));
    assert.equal(optimized.result.status, 0, optimized.result.stderr);
    assert.deepEqual(optimized.calls, { square_loss: 6 });
  });

  it('takes course code as it is: writes into inputs and constants, param dicts, float32 parameters, params written and restored', async () => {
    const { result: report, calls } = await countingCalls(() => checkFile(fixture('python/course_conventions_grad.py'), {}, LIMITS, {}, null, PYTHON));
    const problems = byName(report);
    const verdicts = Object.fromEntries([...problems].map(([name, problem]) => [name, problem.verdict]));
    assert.deepEqual(verdicts, {
      counted: 'pass',
      counted_loss: 'pass',
      writes_its_input: 'pass',
      writes_a_constant_array: 'pass',
      writes_a_constant_dict: 'pass',
      dropout_without_seed: 'nondeterministic',
      quadratic: 'pass',
      restored: 'pass',
    });
    assert.match(errorOf(problems.get('dropout_without_seed')!.error), /at the same point \(randomness in dropout_forward differs between calls \(dropout without a seed\?\): give dropout_param a 'seed'/);
    assert.deepEqual(problems.get('quadratic')!.warnings, [
      'W is float32: checked in float64. At eps 1e-6 the differences of float32 values are rounding noise (its resolution near 1 is 1.2e-07), so a check in float32 would fail on it even for a right gradient',
    ]);
    // W (2×3) and b (3); params['steps'], an int, is left alone.
    assert.equal(problems.get('quadratic')!.size, 9);
    assert.equal(calls['Quadratic.loss'], problems.get('quadratic')!.evaluations.f + problems.get('quadratic')!.evaluations.grad);
  });

  it('names what unmodified course code gets wrong, at the line that returned it', async () => {
    const file = fixture('python/course_failures_grad.py');
    const problems = byName(await checkFile(file, {}, LIMITS, {}, null, PYTHON));
    const failure = (name: string) => {
      const problem = problems.get(name)!;
      assert.equal(problem.verdict, 'error', name);
      return [errorOf(problem.error).replace(/ \(at .*\)$/, ''), problem.error!.location?.line];
    };
    assert.deepEqual(failure('two_gradients'), ['backward_two_gradients(dout, cache) returned 2 gradients, but affine_forward has 3 float array inputs, x, w, b: one for each, in this order (or name those it returns gradients for in "wrt") at the unperturbed point', 15]);
    assert.deepEqual(failure('none_gradient'), ['backward_none_gradient(dout, cache) returned None as the gradient of b (3 of 3), expected an array of shape [2] like inputs.b at the unperturbed point', 21]);
    assert.deepEqual(failure('wrong_shape'), ['backward_wrong_shape(dout, cache).w has shape [2,4], expected [4,2] like inputs.w; once reshaped, 6 of 8 are wrong', 26]);
    assert.deepEqual(failure('no_cache'), ['forward_without_cache(x, w, b) returned an array of shape [3,2] (float64), expected (out, cache): its output and what backward needs at the unperturbed point', 30]);
    assert.deepEqual(failure('backward_arity'), ['step_backward_one_output(dnext_h, cache) takes 2 arguments, but step_forward(x, prev_h, w) returned 2 outputs and a cache: a backward takes one upstream gradient per output, then the cache at the unperturbed point', 38]);
    assert.deepEqual(failure('loss_gradient_count'), ['svm_like(x, y) returned 2 gradients, but svm_like has 1 float array input, x: one for each, in this order (or name those it returns gradients for in "wrt") at the unperturbed point', 43]);
    // Malformed exports: at the export.
    assert.deepEqual(failure('inputs_do_not_bind'), ["inputs_do_not_bind: affine_forward(x, w, b) cannot take the inputs x, w, bias as keyword arguments: missing a required argument: 'b'", 56]);
    assert.deepEqual(failure('wrt_not_an_input'), ['wrt_not_an_input: wrt names W, which inputs does not have (it has x, y)', 58]);
    assert.deepEqual(failure('wrt_integer_array'), ["wrt_integer_array: wrt names y, but inputs['y'] is an array of shape [3] (int64): only float arrays have gradients to check", 59]);
    assert.deepEqual(failure('no_float_input'), ['no_float_input: no input of svm_like is a float array (x, y): nothing to check', 60]);
    assert.deepEqual(failure('model_without_params'), ['model_without_params: model is a NoParams, which has no params dict (a CS231n model keeps its weights in self.params)', 61]);
  });

  it('gradlens.layer_pair, loss_with_gradient and model_with_params build the plain dicts, optional keys only when given', () => {
    const script = 'import json, sys; sys.path.insert(0, sys.argv[1]); import gradlens\n'
      + 'f = lambda *a: None\n'
      + 'print(json.dumps([sorted(gradlens.layer_pair(forward=f, backward=f, inputs={})), sorted(gradlens.layer_pair(forward=f, backward=f, inputs={}, wrt=["x"], description="d")),\n'
      + '  sorted(gradlens.loss_with_gradient(loss=f, inputs={}, wrt=["W"])), sorted(gradlens.model_with_params(model=None, inputs={}))]))';
    const result = spawnSync(PYTHON, ['-c', script, path.join(ROOT, 'python')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [
      ['backward', 'forward', 'inputs'],
      ['backward', 'description', 'forward', 'inputs', 'wrt'],
      ['inputs', 'loss', 'wrt'],
      ['inputs', 'model'],
    ]);
  });
});

describe('course code in torch (EECS498)', { skip: WITHOUT_TORCH }, () => {
  it('checks layer pairs and models over torch tensors, handing them torch tensors', async () => {
    const file = fixture('torch/eecs498_grad.py');
    assert.ok(fs.existsSync(file));
    const problems = byName(await checkFile(file, {}, LIMITS, {}, null, PYTHON));
    const verdicts = Object.fromEntries([...problems].map(([name, problem]) => [name, problem.verdict]));
    assert.deepEqual(verdicts, { linear: 'pass', relu: 'pass', reluWithoutDout: 'fail', net: 'pass' });
    // ReLU's backward without dout is wrong exactly where x > 0.
    assert.deepEqual([...problems.get('reluWithoutDout')!.failedElements].sort(), ['x[0,0]', 'x[0,2]', 'x[1,1]', 'x[2,1]', 'x[2,2]'].sort());
    assert.match(problems.get('net')!.warnings.join('\n'), /^W1, b1, W2, b2 are float32: checked in float64/);
  });
});
