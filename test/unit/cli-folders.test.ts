/**
 * `gradlens check FOLDER`, names that do not exist, and modules that cannot be found, as a user meets
 * them in a terminal: the CLI spawned as installed, its output read as printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_PROBLEM_GLOB } from '../../src/runner/problem-files';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

function gradlens(args: string[], cwd = root) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const folders: string[] = [];
after(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-cli-'));
  folders.push(folder);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    fs.writeFileSync(path.join(folder, file), text);
  }
  return folder;
}

/** f = x0² + x1² with the gradient right or (`bug`) with a wrong sign on x1. */
const tsProblem = (name: string, bug = false) => `export const ${name} = {
  params: { x: [0.5, -1.5] },
  f: (p: { x: number[] }) => p.x[0] ** 2 + p.x[1] ** 2,
  grad: (p: { x: number[] }) => ({ x: [2 * p.x[0], ${bug ? '-' : ''}2 * p.x[1]] }),
};
`;
const pyProblem = (name: string) => `import numpy as np

${name} = {
    "params": {"w": np.array([1.0, -2.0, 0.5])},
    "f": lambda p: float(np.sum(p["w"] ** 3)),
    "grad": lambda p: {"w": 3 * p["w"] ** 2},
}
`;

interface Checked {
  file: string;
  name: string;
  verdict: string;
}

function checked(stdout: string): Checked[] {
  return (JSON.parse(stdout) as { problems: Checked[] }).problems.map(({ file, name, verdict }) => ({ file, name, verdict }));
}

describe('gradlens check FOLDER', { skip: WITHOUT_NUMPY }, () => {
  const mixed = () => tree({
    'model.grad.ts': tsProblem('bowl', true),
    'layers/layers_grad.py': pyProblem('cube'),
    'node_modules/pkg/installed.grad.ts': tsProblem('installed'),
    'venv/lib/python3/site-packages/torch/autograd_grad.py': pyProblem('torchs'),
    'out/model.grad.js': 'exports.compiled = {};',
    'helpers.ts': tsProblem('helper'),
    'notes_grad.txt': 'not a problem file',
  });

  it('checks exactly the problem files under it, TS and Python, sorted, in one run', () => {
    const folder = mixed();
    const { code, stdout, stderr } = gradlens(['check', folder, '--python', PYTHON, '--json']);
    assert.equal(code, 1, stderr);
    assert.deepEqual(checked(stdout), [
      { file: path.join(folder, 'layers/layers_grad.py'), name: 'cube', verdict: 'pass' },
      { file: path.join(folder, 'model.grad.ts'), name: 'bowl', verdict: 'fail' },
    ]);
  });

  it('checks . from the working directory, naming the files relative to it', () => {
    const folder = mixed();
    const { code, stdout } = gradlens(['check', '.', '--python', PYTHON], folder);
    assert.equal(code, 1, stdout);
    const headers = stdout.split('\n').filter((line) => line !== '' && !line.startsWith(' '));
    assert.deepEqual(headers, [path.join('layers', 'layers_grad.py'), 'model.grad.ts', '2 problems: 1 passed, 1 failed']);
    assert.match(stdout, /✗ fail +bowl .*\n +x 1\/2 wrong\n +x\[1\] +analytic 3 +numeric -3/);
  });

  it('takes folders and files together, each file once', () => {
    const folder = mixed();
    const { code, stdout } = gradlens(['check', path.join(folder, 'model.grad.ts'), folder, '--python', PYTHON, '--json']);
    assert.equal(code, 1);
    assert.deepEqual(checked(stdout).map((problem) => problem.name), ['bowl', 'cube']);
  });

  it('says so, with the pattern, when a folder has no problem files (exit 2)', () => {
    const empty = tree({ 'node_modules/p/x.grad.ts': tsProblem('x'), 'readme.md': '' });
    const { code, stdout, stderr } = gradlens(['check', empty]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, `gradlens: no problem files under ${empty} (looked for ${DEFAULT_PROBLEM_GLOB})\n`);
    assert.equal(gradlens(['check', '.'], empty).stderr, `gradlens: no problem files under . (looked for ${DEFAULT_PROBLEM_GLOB})\n`);
    const missing = gradlens(['check', path.join(empty, 'tests')]);
    assert.deepEqual([missing.code, missing.stderr], [2, `gradlens: ${path.join(empty, 'tests')}: no such file or folder\n`]);
  });

  it('--problem picks across the folder; a name no file has lists theirs with the likely one (exit 2)', () => {
    const folder = mixed();
    const one = gradlens(['check', folder, '--problem', 'cube', '--python', PYTHON]);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.ok(!one.stdout.includes('model.grad.ts'), 'a file without the problem is not listed');
    const typo = gradlens(['check', folder, '--problem', 'bwol', '--python', PYTHON]);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, `gradlens: no problem named 'bwol' in ${path.join(folder, 'layers/layers_grad.py')}, ${path.join(folder, 'model.grad.ts')}; their problems: cube, bowl (did you mean bowl?)\n`);
  });
});

describe('--problem with a name the file does not have', () => {
  const file = 'test/fixtures/optimize.grad.ts';

  it('check names the file\'s problems and the closest, and exits 2 as for a bad flag', () => {
    const { code, stdout, stderr } = gradlens(['check', 'test/fixtures/cli.grad.ts', '--problem', 'signEror']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, "gradlens: no problem named 'signEror' in test/fixtures/cli.grad.ts; its problems: correct, signError, reluAtZero (did you mean signError?)\n");
    // The names that exist are still checked, and the typo still fails the command.
    const partly = gradlens(['check', 'test/fixtures/cli.grad.ts', '--problem', 'correct', '--problem', 'corect']);
    assert.equal(partly.code, 2);
    assert.match(partly.stdout, /✓ pass +correct/);
    assert.match(partly.stderr, /no problem named 'corect' .*\(did you mean correct\?\)/);
  });

  it('optimize, compare and analyze say the same', () => {
    const problems = gradlens(['check', file, '--json']);
    const names = (JSON.parse(problems.stdout) as { problems: { name: string }[] }).problems.map((problem) => problem.name);
    assert.ok(names.includes('bowl'), names.join(', '));
    const expected = `no problem named 'bwol' in ${file}; its problems: ${names.join(', ')} (did you mean bowl?)`;
    for (const args of [['optimize', file, '--problem', 'bwol', '--optimizer', 'sgd'], ['compare', file, '--problem', 'bwol'], ['analyze', file, '--problem', 'bwol']]) {
      const { code, stderr } = gradlens(args);
      assert.equal(code, 2, args.join(' '));
      assert.equal(stderr, `gradlens: ${expected}\n`, args.join(' '));
    }
  });
});

/** Independently of Node's resolver: the node_modules folders that exist from `folder` up. */
function nodeModulesFrom(folder: string): string[] {
  const existing: string[] = [];
  for (let at = folder; ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, 'node_modules'))) existing.push(path.join(at, 'node_modules'));
    if (path.dirname(at) === at) return existing;
  }
}

describe('a package a TypeScript problem file imports and nobody installed', () => {
  it('names the node_modules folders it was looked for in, nearest first', () => {
    const { code, stdout } = gradlens(['check', 'test/fixtures/missing-package.grad.js']);
    assert.equal(code, 2);
    const existing = nodeModulesFrom(path.join(root, 'test/fixtures'));
    assert.ok(existing.includes(path.join(root, 'node_modules')));
    assert.ok(stdout.includes(`cannot find module 'left-pad-that-is-not-installed' (imported by missing-package.grad.js; not in ${existing.slice(0, 3).join(', ')}`), stdout);
  });

  it('says there is no node_modules folder at all when there is none', () => {
    const folder = tree({ 'uses.grad.ts': "import pad from 'left-pad-that-is-not-installed';\nexport const p = { params: { x: [pad.length] }, f: () => 0, grad: () => ({ x: [0] }) };\n" });
    const { code, stdout } = gradlens(['check', path.join(folder, 'uses.grad.ts')]);
    assert.equal(code, 2);
    // A machine may have a node_modules above the temporary folder; then it is named instead.
    const above = nodeModulesFrom(folder);
    assert.ok(
      stdout.includes(above.length === 0 ? '(imported by uses.grad.ts; no node_modules folder in its folder or above it: is it installed in the workspace?)' : `(imported by uses.grad.ts; not in ${above[0]}`),
      stdout,
    );
  });
});
