import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PROBLEM_GLOB, PROBLEM_FILE_EXCLUDE, findProblemFiles, globRegExp } from '../../src/runner/problem-files';

const root = path.resolve(__dirname, '../../..');

function tree(files: Record<string, string>): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-files-'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    fs.writeFileSync(path.join(folder, file), text);
  }
  return folder;
}

describe('problem files: the glob', () => {
  it('is the one package.json contributes as the default of gradlens.problemFiles', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
    assert.equal(manifest.contributes.configuration.properties['gradlens.problemFiles'].default, DEFAULT_PROBLEM_GLOB);
  });

  it('matches problem files at any depth, and nothing else', () => {
    const problem = globRegExp(DEFAULT_PROBLEM_GLOB);
    for (const file of ['model.grad.ts', 'a/b/model.grad.mjs', 'layers_grad.py', 'deep/er/net.grad.py', 'x.grad.js', 'x.grad.mts']) {
      assert.ok(problem.test(file), file);
    }
    for (const file of ['model.ts', 'grad.ts', 'model.grad.tsx', 'model.grad.ts.bak', 'layers_grad.pyc', 'layersgrad.py', 'a/model.grad.cts']) {
      assert.ok(!problem.test(file), file);
    }
  });

  it('reads the syntax as VS Code does: ** any folders or none, * and ? within a segment, braces, classes', () => {
    const cases: [string, string[], string[]][] = [
      ['*.ts', ['a.ts', '.ts'], ['d/a.ts', 'a.tsx']],
      ['src/**/*.ts', ['src/a.ts', 'src/x/y/a.ts'], ['a.ts', 'lib/src/a.ts']],
      ['**', ['a', 'a/b/c'], []],
      ['a/**', ['a/', 'a/b', 'a/b/c'], ['a', 'ab/c']],
      ['?.py', ['a.py'], ['ab.py', '/.py']],
      ['{a,b{c,d}}.txt', ['a.txt', 'bc.txt', 'bd.txt'], ['b.txt', 'abc.txt']],
      ['[ab]x', ['ax', 'bx'], ['cx']],
      ['[!ab]x', ['cx'], ['ax', '/x']],
      ['a+b(1).txt', ['a+b(1).txt'], ['aab1.txt']],
    ];
    for (const [pattern, yes, no] of cases) {
      const glob = globRegExp(pattern);
      for (const file of yes) assert.ok(glob.test(file), `${pattern} should match ${file}`);
      for (const file of no) assert.ok(!glob.test(file), `${pattern} should not match ${file}`);
    }
    assert.throws(() => globRegExp('{a,b'), /unclosed '\{'/);
  });

  it('excludes installed packages, environments, version control and build output at any depth', () => {
    const excluded = globRegExp(PROBLEM_FILE_EXCLUDE);
    for (const file of ['node_modules/p/x.grad.ts', 'a/node_modules/x_grad.py', '.venv/lib/x_grad.py', 'venv/x_grad.py', 'lib/python3/site-packages/torch/x_grad.py', '.git/x.grad.ts', 'out/x.grad.js', 'dist/x.grad.js']) {
      assert.ok(excluded.test(file), file);
    }
    for (const file of ['x.grad.ts', 'outer/x.grad.ts', 'my_venv/x_grad.py', 'src/distance_grad.py']) assert.ok(!excluded.test(file), file);
  });
});

describe('problem files: the walk', () => {
  it('finds the problem files under a folder, sorted, outside excluded folders, following links once', () => {
    const folder = tree({
      'b.grad.ts': '', 'a_grad.py': '', 'sub/z.grad.js': '', 'sub/deeper/m.grad.py': '', 'sub/a.grad.mts': '',
      'helper.ts': '', 'notes_grad.txt': '', 'node_modules/pkg/x.grad.ts': '', 'venv/lib/site-packages/torch/y_grad.py': '',
      'out/b.grad.js': '', '.git/c.grad.ts': '',
    });
    try {
      fs.symlinkSync(folder, path.join(folder, 'sub', 'loop'));
      fs.symlinkSync(path.join(folder, 'missing'), path.join(folder, 'dangling.grad.ts'));
      const { files, unreadable } = findProblemFiles(folder);
      assert.deepEqual(files, ['a_grad.py', 'b.grad.ts', 'sub/a.grad.mts', 'sub/deeper/m.grad.py', 'sub/z.grad.js'].map((file) => path.join(folder, file)));
      assert.deepEqual(unreadable, []);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('matches relative to the folder given: a folder named like an excluded one can be asked for', () => {
    const folder = tree({ 'out/a.grad.ts': '' });
    try {
      assert.deepEqual(findProblemFiles(path.join(folder, 'out')).files, [path.join(folder, 'out', 'a.grad.ts')]);
      assert.deepEqual(findProblemFiles(folder).files, []);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('names folders it cannot read and goes on', { skip: process.getuid?.() === 0 ? 'root reads every folder' : false }, () => {
    const folder = tree({ 'a.grad.ts': '', 'locked/b.grad.ts': '' });
    try {
      fs.chmodSync(path.join(folder, 'locked'), 0o000);
      const { files, unreadable } = findProblemFiles(folder);
      assert.deepEqual(files, [path.join(folder, 'a.grad.ts')]);
      assert.deepEqual(unreadable, [{ folder: path.join(folder, 'locked'), reason: 'EACCES' }]);
    } finally {
      fs.chmodSync(path.join(folder, 'locked'), 0o755);
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
