/**
 * Bootstrap of the integration suite inside a real VS Code extension host
 * (extensionTestsPath = out/test/host/suite/index). VS Code loads this module
 * in the extension host and awaits run(); a rejection makes the host exit 1.
 *
 * Runs every compiled out/test/host/suite/**\/*.test.js with mocha (bdd:
 * `import { describe, it } from 'mocha'`), spec reporter, 60 s per test.
 * Environment (set on the command that starts the host, e.g. test/host/run.mjs --grep):
 *   GRADLENS_HOST_GREP     only tests whose full title matches this regular expression
 *   GRADLENS_HOST_TIMEOUT  per-test timeout in ms (default 60000)
 *   GRADLENS_HOST_TRUST    'untrusted': only the "untrusted workspace" tests (the host has an untrusted folder);
 *                          'trusted': all but those
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** The line run.mjs reads the counts from (prefix, then JSON). */
export const RESULT_PREFIX = 'GRADLENS_HOST_RESULT ';

export function run(): Promise<void> {
  process.setSourceMapsEnabled(true); // stacks point at test/host/suite/*.ts
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.GRADLENS_HOST_TIMEOUT) || 60_000,
  });
  // run.mjs starts a second host with an untrusted workspace for the tests titled "untrusted workspace …".
  const chosen = process.env.GRADLENS_HOST_GREP;
  const trust = process.env.GRADLENS_HOST_TRUST;
  if (trust === 'untrusted') mocha.grep(new RegExp(`^(?=untrusted workspace\\b)${chosen ? `(?=.*(?:${chosen}))` : ''}`));
  else if (chosen) mocha.grep(new RegExp(chosen));
  else if (trust === 'trusted') mocha.grep(/^untrusted workspace\b/).invert();
  const files = fs.readdirSync(__dirname, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.test.js'))
    .sort();
  for (const file of files) mocha.addFile(path.join(__dirname, file));

  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    let pending = 0;
    try {
      const runner = mocha.run(() => {
        console.log(`${RESULT_PREFIX}${JSON.stringify({ passed, failed, pending, files: files.length })}`);
        if (files.length === 0) reject(new Error(`no *.test.js files in ${__dirname}`));
        else if (failed > 0) reject(new Error(`${failed} of ${passed + failed} host tests failed`));
        else resolve();
      });
      runner.on('pass', () => passed++);
      runner.on('fail', () => failed++);
      runner.on('pending', () => pending++);
    } catch (error) {
      reject(error);
    }
  });
}
