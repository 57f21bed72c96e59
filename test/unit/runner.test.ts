import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileReport, type ProblemReport, checkFile } from '../../src/runner/runner';
import { errorText } from '../../src/report/errors';
import { errorOf } from './report-text';

const fixtures = path.resolve(__dirname, '../../../test/fixtures');
const fixture = (name: string) => path.join(fixtures, name);

function byName(report: FileReport): Map<string, ProblemReport> {
  return new Map(report.problems.map((problem) => [problem.name, problem]));
}

describe('sandboxed runner', () => {
  // One run of the whole failure gallery: every failure stays with its problem and the rest is still checked.
  let gallery: Promise<{ report: FileReport; output: string }> | undefined;
  const runGallery = () => {
    gallery ??= (async () => {
      let output = '';
      const report = await checkFile(fixture('failures.grad.ts'), {}, { timeoutSeconds: 3, memoryMb: 96 }, {
        onOutput: (text) => {
          output += text;
        },
      });
      return { report, output };
    })();
    return gallery;
  };

  it('checks every problem of a file in source order, whatever the others do', async () => {
    const { report } = await runGallery();
    assert.equal(report.loadError, null);
    assert.deepEqual(report.problems.map((problem) => problem.name), [
      'good', 'throwsInF', 'loopsForever', 'exitsProcess', 'returnsNaN', 'wrongShape', 'rejects', 'neverSettles', 'outOfMemory', 'prints', 'last',
    ]);
    const problems = byName(report);
    for (const name of ['good', 'prints', 'last']) assert.equal(problems.get(name)?.verdict, 'pass', name);
  });

  it('points a throw at the user file and line, and names the perturbed element', async () => {
    const problem = byName((await runGallery()).report).get('throwsInF')!;
    assert.equal(problem.verdict, 'error');
    // The structure travels as it is; text is made only at the edge.
    const { location, ...rest } = problem.error!;
    assert.deepEqual({ file: location?.file, line: location?.line }, { file: fixture('failures.grad.ts'), line: 13 });
    assert.ok(Number.isInteger(location?.column));
    assert.deepEqual({ kind: rest.kind, phase: rest.phase, element: rest.element, setting: rest.setting }, { kind: 'user', phase: 'check', element: 'x[1]', setting: null });
    assert.match(errorOf(problem.error), /^f threw RangeError: x\[1\] out of range with x\[1\] \+ 0\.000001 \(at .*failures\.grad\.ts:13:\d+\)$/);
  });

  it('stops an infinite loop at the time limit and points at the export', async () => {
    const problem = byName((await runGallery()).report).get('loopsForever')!;
    assert.equal(problem.verdict, 'error');
    assert.equal(problem.error?.kind, 'limit');
    // Each edge names the limit in its own words.
    assert.match(errorText(problem.error!, { timeout: 'the setting gradlens.timeoutSeconds', memory: '', python: '', mode: '' }), /^timed out after 3 s \(the setting gradlens\.timeoutSeconds\) while/);
    assert.match(errorOf(problem.error), /^timed out after 3 s \(--timeout\) while checking loopsForever, in f \(at .*failures\.grad\.ts:22:\d+\)$/);
    assert.equal(problem.line, 19);
  });

  it('turns process.exit in user code into an error of that problem', async () => {
    const problem = byName((await runGallery()).report).get('exitsProcess')!;
    assert.match(errorOf(problem.error), /process\.exit\(7\) called in user code .*failures\.grad\.ts:31:\d+/);
  });

  it('rejects non-finite losses and wrong gradient shapes with the element named', async () => {
    const problems = byName((await runGallery()).report);
    assert.match(errorOf(problems.get('returnsNaN')!.error), /^f\(p\) returned NaN, expected a finite number with x\[0\] \+ 0\.000001/);
    assert.match(errorOf(problems.get('wrongShape')!.error), /grad\(p\)\.x has shape \[3\], expected \[2\] like params\.x/);
  });

  it('awaits async user code and reports rejections and promises that never settle', async () => {
    const problems = byName((await runGallery()).report);
    assert.match(errorOf(problems.get('rejects')!.error), /^grad threw Error: async grad failed .*failures\.grad\.ts:5\d:\d+/);
    assert.match(errorOf(problems.get('neverSettles')!.error), /timed out after 3 s/);
  });

  it('survives running out of memory', async () => {
    const problem = byName((await runGallery()).report).get('outOfMemory')!;
    assert.equal(problem.verdict, 'error');
    assert.match(errorOf(problem.error), /^ran out of memory at 96 MB \(--memory\) while checking outOfMemory, in f \(at .*failures\.grad\.ts:65:\d+\)$/);
  });

  it('locates a throw in user code after full garbage collections, in the file and not its bundle', async () => {
    const report = await checkFile(fixture('gc-then-throws.grad.ts'), {}, { timeoutSeconds: 30, memoryMb: 64 });
    const [problem] = report.problems;
    assert.match(problem.error!.message, /^f threw RangeError: thrown after 40000000 elements of garbage/);
    assert.deepEqual([problem.error!.location?.line, problem.error!.location?.column], [10, 11]);
  });

  it('forwards what user code prints instead of mixing it into results', async () => {
    const { output } = await runGallery();
    assert.match(output, /user output from f/);
  });

  it('reports a syntax error with file and line and checks nothing', async () => {
    const report = await checkFile(fixture('syntax-error.grad.ts'));
    assert.equal(report.problems.length, 0);
    assert.match(errorOf(report.loadError), /syntax-error\.grad\.ts:3:\d+: .*Unexpected/);
  });

  it('names a missing local module and a missing npm package', async () => {
    const local = await checkFile(fixture('missing-local.grad.ts'));
    assert.match(errorOf(local.loadError), /missing-local\.grad\.ts:1:\d+: Could not resolve "\.\/does-not-exist"/);
    const npm = await checkFile(fixture('missing-package.grad.js'));
    assert.match(errorOf(npm.loadError), /missing-package\.grad\.js:1:\d+: cannot find module 'left-pad-that-is-not-installed'/);
  });

  it('reports an exception at module load with its line', async () => {
    const report = await checkFile(fixture('throws-at-load.grad.mjs'));
    assert.match(errorOf(report.loadError), /throws-at-load\.grad\.mjs:3:\d+: loading .* threw TypeError: Cannot read properties of null/);
  });

  it('loads CommonJS files and ignores exports that are not problems', async () => {
    const report = await checkFile(fixture('commonjs.grad.cjs'));
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['cube', 'pass']]);
  });

  it("resolves 'gradlens', local .js imports of .ts files, default exports and import.meta.url", async () => {
    const report = await checkFile(fixture('imports-gradlens.grad.mts'));
    assert.equal(report.loadError, null);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.kind, problem.verdict]), [
      ['default', 'scalar', 'pass'],
      ['scale', 'layer', 'pass'],
    ]);
  });

  it('fails the running problem when a timer in user code throws, and carries on', async () => {
    const report = await checkFile(fixture('timer-throws.grad.ts'));
    assert.equal(report.problems.length, 1);
    assert.equal(report.problems[0].verdict, 'error');
    assert.match(errorOf(report.problems[0].error), /^uncaught Error: thrown from a timer while checking first \(at .*timer-throws\.grad\.ts:5:\d+\)$/);
  });

  it('stops on cancellation and says so', async () => {
    const controller = new AbortController();
    const pending = checkFile(fixture('failures.grad.ts'), {}, { timeoutSeconds: 30, memoryMb: 256 }, {
      signal: controller.signal,
      onProblemStarted: (_file, problem) => {
        if (problem === 'loopsForever') controller.abort();
      },
    });
    const report = await pending;
    assert.equal(report.cancelled, true);
    assert.deepEqual(report.problems.map((problem) => problem.name), ['good', 'throwsInF', 'loopsForever']);
    assert.match(errorOf(report.problems[2].error), /cancelled/);
  });

  it('locates an infinite loop in top-level code and reports the file as not loaded', async () => {
    const report = await checkFile(fixture('loops-at-load.grad.ts'), {}, { timeoutSeconds: 1, memoryMb: 256 });
    assert.equal(report.problems.length, 0);
    assert.match(errorOf(report.loadError), /loops-at-load\.grad\.ts:[34]:\d+: timed out after 1 s \(--timeout\) while loading loops-at-load\.grad\.ts, in /);
  });

  it('reports malformed problems as errors of their own kind and checks the rest', async () => {
    const report = await checkFile(fixture('malformed.grad.ts'));
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.kind, problem.verdict]), [
      ['missingGrad', 'scalar', 'error'],
      ['badLayer', 'layer', 'error'],
      ['okay', 'scalar', 'pass'],
    ]);
    assert.match(errorOf(report.problems[0].error), /^missingGrad: missing grad, expected a function .* \(at .*malformed\.grad\.ts:2\)$/);
    assert.match(errorOf(report.problems[1].error), /^badLayer: forward is number/);
  });

  it('checks only the requested problems', async () => {
    const report = await checkFile(fixture('failures.grad.ts'), {}, undefined, {}, ['last', 'good']);
    assert.deepEqual(report.problems.map((problem) => problem.name), ['good', 'last']);
  });
});
