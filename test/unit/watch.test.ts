/**
 * gradlens.watch on real torch.optim optimizers (Debian's python3-torch, float64): every supported rule's
 * recorded effective learning rates against the documented formulas evaluated on torch's own state by an
 * independent script (test/oracle/torch_watch.py), update norms against the measured parameter change;
 * training unchanged by the watch; the JSON Lines log, a killed script's log, and `gradlens show`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { summarize } from '../../src/core/optim/telemetry';
import { type RunLog, readRunLog } from '../../src/core/run-log';
import { PYTHON, WITHOUT_TORCH } from './python-env';

const root = path.resolve(__dirname, '../../..');
const ORACLE = path.join(root, 'test/oracle/torch_watch.py');
const PYTHON_DIR = path.join(root, 'python');
const cli = path.join(root, 'dist/cli.js');
const TOLERANCE = 1e-12;

interface Case {
  name: string;
  optimizer: string;
  kwargs: Record<string, unknown>;
  steps: number;
  /** The watch's [PACKED_SIZE, PACK_SIZE, WINDOW_SIZE]; the default packs every tensor of this small model together. */
  packing?: [number, number, number];
  frozenSteps?: number;
  widths?: number[];
}

interface Expected {
  step: number;
  updateNorm: number;
  gradNorm: number;
  updateRatio: number;
  velocityNorm: number | null;
  loss: number;
  ratio: Record<string, number>;
  rates: Record<string, [number, number]>;
  detail?: number[];
  all?: number[];
}

const CASES: Case[] = [
  { name: 'sgd', optimizer: 'SGD', kwargs: { lr: 0.05 }, steps: 5 },
  { name: 'sgd-weight-decay', optimizer: 'SGD', kwargs: { lr: 0.05, weight_decay: 0.1, maximize: true }, steps: 5 },
  { name: 'sgd-momentum', optimizer: 'SGD', kwargs: { lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01 }, steps: 5 },
  { name: 'sgd-nesterov', optimizer: 'SGD', kwargs: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01 }, steps: 5 },
  { name: 'adagrad', optimizer: 'Adagrad', kwargs: { lr: 0.05, lr_decay: 0.01, weight_decay: 0.01, initial_accumulator_value: 0.1 }, steps: 5 },
  { name: 'rmsprop', optimizer: 'RMSprop', kwargs: { lr: 0.01, weight_decay: 0.01 }, steps: 5 },
  { name: 'rmsprop-centered-momentum', optimizer: 'RMSprop', kwargs: { lr: 0.01, centered: true, momentum: 0.5, weight_decay: 0.01 }, steps: 5 },
  { name: 'adadelta', optimizer: 'Adadelta', kwargs: { lr: 1, weight_decay: 0.01 }, steps: 5 },
  { name: 'adam', optimizer: 'Adam', kwargs: { lr: 0.01, weight_decay: 0.01 }, steps: 5 },
  { name: 'adam-amsgrad-maximize', optimizer: 'Adam', kwargs: { lr: 0.01, amsgrad: true, maximize: true }, steps: 5 },
  { name: 'adamw', optimizer: 'AdamW', kwargs: { lr: 0.01, weight_decay: 0.1 }, steps: 5 },
  { name: 'adamw-amsgrad', optimizer: 'AdamW', kwargs: { lr: 0.01, weight_decay: 0.1, amsgrad: true }, steps: 5 },
  { name: 'adamax', optimizer: 'Adamax', kwargs: { lr: 0.01, weight_decay: 0.01 }, steps: 5 },
  { name: 'nadam', optimizer: 'NAdam', kwargs: { lr: 0.01, weight_decay: 0.01 }, steps: 5 },
  // Rectification starts at step 6 with the default betas: both branches.
  { name: 'radam', optimizer: 'RAdam', kwargs: { lr: 0.01, weight_decay: 0.01 }, steps: 8 },
  { name: 'unknown-rule', optimizer: 'SignDescent', kwargs: { lr: 0.01 }, steps: 4 },
];

// The tensors (30, 5, 15 and 3 elements) each alone, Adam's update taken 7 elements at a time; or 0.weight alone
// in windows of 20 and 10, 0.bias with 2.weight, and 2.bias in a pack of its own (full); a pack of 23 in windows
// of 12 and 11, 2.weight split between them; a pack split by step counts, 2.bias having no gradient on the first two steps; and a
// model of 2,201 parameters, all packed, sampled every third element overall and in 0.weight (2,100), where 2.bias
// (one element, at 2,200) falls between the overall sample's; and five layers, ten tensors in one pack.
const PACKINGS: Pick<Case, 'packing' | 'frozenSteps' | 'widths'>[] = [
  { packing: [0, 1, 7] },
  { packing: [16, 20, 20] },
  { packing: [16, 64, 12] },
  { packing: [16, 64, 64], frozenSteps: 2 },
  { widths: [42, 50, 1] },
  { widths: [6, 5, 5, 5, 5, 3] },
];
const described = (variant: Pick<Case, 'packing' | 'frozenSteps' | 'widths'>): string =>
  variant.widths?.length === 6 ? 'ten tensors in one pack' : variant.widths ? 'a model of 2,201 parameters' : variant.frozenSteps ? 'a pack split by step counts' : variant.packing![0] === 0 ? 'each tensor alone' : variant.packing![1] === 20 ? 'packs of up to 20' : 'a pack in two windows';
const PACKED_CASES: Case[] = PACKINGS.flatMap((variant) => CASES.map((entry) => ({ ...entry, ...variant, name: `${entry.name}, ${described(variant)}` })));

function relative(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
}

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: recorded ${actual}`);
  assert.ok(relative(actual!, expected) <= TOLERANCE, `${what}: recorded ${actual}, expected ${expected} (relative error ${relative(actual!, expected)})`);
}

function python(script: string, env: Record<string, string> = {}) {
  return spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_DIR, ...env } });
}

describe('gradlens.watch against torch', { skip: WITHOUT_TORCH }, () => {
  let directory = '';
  let oracle: Record<string, { log: string; steps: Expected[] }> = {};
  before(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-watch-'));
    const input = JSON.stringify([...CASES, ...PACKED_CASES].map((entry) => ({ ...entry, logDir: directory })));
    const result = spawnSync(PYTHON, [ORACLE], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.status, 0, result.stderr);
    oracle = JSON.parse(result.stdout) as typeof oracle;
  });
  after(() => fs.rmSync(directory, { recursive: true, force: true }));

  for (const entry of [...CASES, ...PACKED_CASES]) {
    it(`${entry.name}: rates by the documented formula, update norms as measured (1e-12)`, () => {
      const { log: file, steps: expected } = oracle[entry.name];
      const log: RunLog = readRunLog(fs.readFileSync(file, 'utf8'), file);
      assert.equal(log.steps.length, entry.steps);
      assert.ok(log.end, 'the log has its end line');
      assert.equal(log.cutOff, false);
      const known = entry.optimizer !== 'SignDescent';
      assert.equal(log.header.optimizer, known ? entry.optimizer : 'SignDescent');
      const layers = (entry.widths?.length ?? 3) - 1;
      assert.deepEqual(log.header.tensors.map((tensor) => tensor.name), Array.from({ length: layers }, (_, k) => [`${2 * k}.weight`, `${2 * k}.bias`]).flat());
      assert.equal(log.header.adaptive, known && entry.optimizer !== 'SGD');
      log.steps.forEach(({ record }, index) => {
        const want = expected[index];
        const at = `step ${want.step}`;
        assert.equal(record.step, want.step);
        assert.equal(record.loss, want.loss, `${at}: the logged loss`);
        close(record.updateNorm, want.updateNorm, `${at} update norm`);
        close(record.gradNorm, want.gradNorm, `${at} gradient norm`);
        close(record.updateRatio, want.updateRatio, `${at} update ratio`);
        for (const [name, ratio] of Object.entries(want.ratio)) close(record.updateRatioByTensor[name], ratio, `${at} update ratio of ${name}`);
        if (want.velocityNorm === null) assert.equal(record.velocityNorm, null, `${at}: no velocity`);
        else close(record.velocityNorm, want.velocityNorm, `${at} velocity norm`);
        if (Object.keys(want.rates).length === 0) {
          assert.equal(record.effectiveLr, null, `${at}: no effective rates for ${entry.optimizer}`);
          return;
        }
        for (const { name } of log.header.tensors) {
          if (!(name in want.rates)) assert.equal(record.effectiveLrByTensor?.[name], null, `${at}: ${name} has no gradient, so no rates`);
        }
        for (const [name, [low, high]] of Object.entries(want.rates)) {
          const summary = record.effectiveLrByTensor?.[name];
          close(summary?.min, low, `${at} lowest rate of ${name}`);
          close(summary?.max, high, `${at} highest rate of ${name}`);
        }
        const lows = Object.values(want.rates).map(([low]) => low);
        const highs = Object.values(want.rates).map(([, high]) => high);
        close(record.effectiveLr?.min, Math.min(...lows), `${at} lowest rate`);
        close(record.effectiveLr?.max, Math.max(...highs), `${at} highest rate`);
        assert.equal(record.effectiveLrDetail?.length, want.detail!.length);
        want.detail!.forEach((rate, element) => close(record.effectiveLrDetail![element], rate, `${at} rate of 0.weight element ${element}`));
        // The watch's summary is telemetry.ts's: the same bins and quartiles of the same (here: all) elements.
        const ours = summarize(Float64Array.from(record.effectiveLrDetail!))!;
        const recorded = record.effectiveLrByTensor!['0.weight']!;
        assert.deepEqual(recorded.histogram.counts, ours.histogram.counts, `${at}: histogram of 0.weight`);
        for (const key of ['q25', 'median', 'q75'] as const) close(recorded[key], ours[key], `${at} ${key} of 0.weight`);
        if (Object.keys(want.rates).length === log.header.tensors.length) {
          // The overall sample: every stride-th element of the whole vector, as summarize() takes it.
          const overall = summarize(Float64Array.from(want.all!))!;
          assert.deepEqual(record.effectiveLr!.histogram.counts, overall.histogram.counts, `${at}: overall histogram`);
          assert.equal(record.effectiveLr!.histogram.sampled, overall.histogram.sampled);
        }
      });
      if (!known) assert.equal(log.steps[0].record.warning, 'effective learning rate not known for SignDescent');
    });
  }

  it('leaves step() and the training unchanged, and gives step back on close', () => {
    const result = python(`
import torch, gradlens
torch.set_default_dtype(torch.float64)
def train(watched):
    torch.manual_seed(1)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    watch = gradlens.watch(optimizer, model=model, log_dir=${JSON.stringify(directory)}) if watched else None
    x = torch.randn(5, 3)
    returned = []
    for _ in range(4):
        def closure():
            optimizer.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            return loss
        returned.append(optimizer.step(closure).item())
    if watch:
        watch.close()
        assert "step" not in optimizer.__dict__, "step() is given back"
    return [p.tolist() for p in model.parameters()], returned
print(train(False) == train(True))
`);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'True');
  });

  it('needs no NumPy: a torch script without it can watch', () => {
    const result = python(`
import sys
sys.modules["numpy"] = None  # import numpy now fails
import torch, gradlens
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
with gradlens.watch(optimizer, log_dir=${JSON.stringify(directory)}) as watch:
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
print(watch.step, watch.log_path.endswith(".jsonl"))
`);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), '1 True');
  });

  it('refuses what it cannot watch, by name', () => {
    const result = python(`
import torch, gradlens
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for bad in [dict(every=0), dict(detail="fc9.weight", model=model)]:
    try:
        gradlens.watch(optimizer, log_dir="/nonexistent-never-made", **bad)
    except ValueError as error:
        print(error)
`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /every must be a positive integer, got 0/);
    assert.match(result.stdout, /no parameter fc9\.weight \(the parameters are weight, bias\)/);
  });

  it('a killed script leaves a log that opens up to its last complete record, and gradlens show summarizes it', async () => {
    const logs = path.join(directory, 'killed');
    const child = spawn(PYTHON, ['-c', `
import torch, gradlens, time
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
watch = gradlens.watch(optimizer, model=model, name="killed run")
x, y = torch.randn(32, 8), torch.randn(32, 1)
while True:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    watch.log(loss=loss.item())
    time.sleep(0.002)
`], { env: { ...process.env, PYTHONPATH: PYTHON_DIR, GRADLENS_LOG_DIR: logs, GRADLENS_WATCH_SOCKET: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const file = await new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const found = fs.existsSync(logs) ? fs.readdirSync(logs).find((name) => name.startsWith('killed-run-')) : undefined;
        if (found && fs.readFileSync(path.join(logs, found), 'utf8').split('\n').length > 20) {
          clearInterval(poll);
          resolve(path.join(logs, found));
        } else if (Date.now() - started > 60_000 || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`no log of 20 lines: ${stderr}`));
        }
      }, 50);
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // A job killed in the middle of a write leaves half a line: the reader stops before it.
    fs.appendFileSync(file, '{"type":"step","seconds":1.5,"record":{"step":99999,"lr":0.001,"lo');
    const log = readRunLog(fs.readFileSync(file, 'utf8'), file);
    assert.equal(log.end, null);
    assert.equal(log.cutOff, true);
    assert.ok(log.steps.length >= 19, `${log.steps.length} records`);
    assert.deepEqual(log.steps.map((step) => step.record.step), log.steps.map((_, index) => index + 1));
    assert.equal(log.header.name, 'killed run');
    const shown = spawnSync(process.execPath, [cli, 'show', file], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^killed run: RMSprop \(lr 0\.001, momentum 0, alpha 0\.99, eps 1e-8, centered false/);
    assert.match(shown.stdout, /4 tensors, 161 parameters; \d+ records, steps 1 to \d+/);
    assert.match(shown.stdout, /at step \d+, per parameter:\n\s+parameter\s+shape\s+update\/param\s+eff\. lr median/);
    assert.match(shown.stdout, /0\.weight\s+16×8 /);
    assert.match(shown.stdout, /no end: the script was stopped before it closed the watch \(killed\?\), or still runs; its last line was cut off mid-way and is left out/);
  });

  it('gradlens show names a broken line and a file that is no run log', () => {
    const broken = path.join(directory, 'broken.jsonl');
    fs.writeFileSync(broken, '{"type":"run","version":1,"tensors":[]}\n{"type":"step","record":{"step":"two"}}\n');
    const result = spawnSync(process.execPath, [cli, 'show', broken], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `gradlens: ${broken}:2: step is "two", expected a positive integer\n`);
    const other = path.join(directory, 'other.jsonl');
    fs.writeFileSync(other, '{"hello":1}\n');
    const refused = spawnSync(process.execPath, [cli, 'show', other], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.equal(refused.stderr, `gradlens: ${other}: empty, or not a gradlens.watch run log (no run line)\n`);
  });
});

describe('run logs of each version', () => {
  const header = (version: number) => JSON.stringify({ type: 'run', version, name: 'r', tensors: [{ name: 'w', shape: [3] }], adaptive: true });
  const step = (effectiveLr: unknown) => JSON.stringify({ type: 'step', seconds: 0.1, record: { step: 1, lr: 0.1, loss: 1, gradNorm: 1, updateNorm: 1, updateRatio: 1, effectiveLr, effectiveLrByTensor: { w: effectiveLr } } });

  it('version 2 sends histogram counts: the reader makes the whole summary by telemetry.ts', () => {
    const rates = Float64Array.from([0.001, 0.002, 0.5]);
    const whole = summarize(rates)!;
    const log = readRunLog(`${header(2)}\n${step({ min: 0.001, max: 0.5, counts: whole.histogram.counts, sampled: 3 })}\n`, 'run.jsonl');
    assert.deepEqual(log.steps[0].record.effectiveLr, whole);
    assert.deepEqual(log.steps[0].record.effectiveLrByTensor, { w: whole });
  });

  it('version 1 logs, with whole summaries, still open', () => {
    const whole = summarize(Float64Array.from([1, 2, 3]))!;
    const log = readRunLog(`${header(1)}\n${step(whole)}\n`, 'old.jsonl');
    assert.deepEqual(log.steps[0].record.effectiveLr, whole);
  });

  it('names a histogram without its counts, and a version it cannot read', () => {
    assert.throws(() => readRunLog(`${header(2)}\n${step({ min: 1, max: 2, counts: [1, -1], sampled: 2 })}\n`, 'run.jsonl'), /^InputError: run\.jsonl:2: effectiveLr: a histogram needs counts and the number sampled$/);
    assert.throws(() => readRunLog(`${header(3)}\n`, 'new.jsonl'), /new\.jsonl:1: a run log of version 3; this GradLens reads versions 1 and 2/);
  });
});
