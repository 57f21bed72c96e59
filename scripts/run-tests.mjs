// Runs the compiled unit tests (out/test/unit) with node's test runner.
// Usage: node scripts/run-tests.mjs [directory under out/test, default unit]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const suite = process.argv[2] ?? 'unit';
const root = path.join('out', 'test', suite);
const files = fs.readdirSync(root, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.test.js'))
  .map((file) => path.join(root, file))
  .sort();
if (files.length === 0) {
  console.error(`no tests found in ${root}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
