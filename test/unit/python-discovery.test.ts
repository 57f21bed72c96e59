import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pythonProblemCandidates } from '../../src/core/exports';
import { checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const root = path.resolve(__dirname, '../../..');
const skip = WITHOUT_NUMPY;

/** Every Python problem file of the examples and the fixtures that loads. */
function problemFiles(): string[] {
  const folders = ['examples/python', 'test/fixtures/python', 'examples/torch', 'test/fixtures/torch'].map((folder) => path.join(root, folder)).filter((folder) => fs.existsSync(folder));
  return folders.flatMap((folder) => fs.readdirSync(folder).filter((name) => /_grad\.py$/.test(name)).map((name) => path.join(folder, name)));
}

describe('Python problems listed from the text agree with the interpreter', { skip }, () => {
  it('names, lines, kinds and hvp of every example and fixture', async () => {
    let compared = 0;
    for (const file of problemFiles()) {
      // Loading only (no problem checked): what the Test Explorer does when a file is expanded.
      const report = await checkFile(file, {}, { timeoutSeconds: 20, memoryMb: 4096 }, {}, [], PYTHON);
      if (report.loadError) continue;
      const listed = pythonProblemCandidates(fs.readFileSync(file, 'utf8'));
      // The text cannot tell a malformed problem (data['size'] of 0, say) from a good one: the interpreter calls it invalid.
      // (Nor whether it has a second-order check: the names and lines are what it can promise there.)
      const loaded = report.discovered!.map(({ name, line, kind, secondOrder }, k) => (kind === 'invalid' ? { ...listed[k], name, line } : { name, line, kind, secondOrder }));
      assert.deepEqual(listed, loaded, path.relative(root, file));
      compared++;
    }
    assert.ok(compared >= 3, `${compared} files compared`);
  });
});
