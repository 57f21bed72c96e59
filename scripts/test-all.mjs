// `npm test`: lint, build and package, compile, the unit tests (node:test), then the extension-host
// tests (test/host/run.mjs: the mocha suite in a real VS Code, then the packaged vsix through the
// command palette), the dashboard webview in headless Chromium (test/webview/), then `npm start` as a
// user runs it (test/start/). Stops at the first
// lint/build/compile/package error; otherwise runs every tier and ends with one summary line,
// `test: N passed, M failed, K skipped`.
//
//   GRADLENS_SKIP_HOST=1 npm test     skip the extension-host and npm start tiers (they need root once, for apt-get)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command with inherited output, or with its stdout also captured (tee) when capture is set. */
function run(command, args, capture = false) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let output = '';
    if (capture) {
      child.stdout.on('data', (chunk) => {
        process.stdout.write(chunk);
        output += chunk;
      });
    }
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`);
      resolve({ code: 1, output });
    });
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function step(title, command, args) {
  console.log(`\n=== ${title} (${elapsed()})`);
  const { code } = await run(command, args);
  if (code !== 0) {
    console.error(`\n${title} failed (exit ${code})`);
    console.log('test: 0 passed, 1 failed');
    process.exit(1);
  }
}

await step('lint', npm, ['run', '--silent', 'lint']);
await step('build and package', npm, ['run', '--silent', 'package']);
await step('compile', npm, ['run', '--silent', 'compile']);

const lines = [];
let passed = 0;
let failed = 0;
let skipped = 0;

/** Counts of a node:test run with the spec reporter (it ends with `ℹ pass N`, `ℹ fail N`, ...), added to the totals. */
function nodeTestCounts(label, { code, output }) {
  const count = (name) => Number(new RegExp(`^\\S+ ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
  const counts = { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // crashed before its summary
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
  lines.push(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

console.log(`\n=== unit tests (${elapsed()})`);
nodeTestCounts('unit', await run(process.execPath, ['scripts/run-tests.mjs'], true));

if (process.env.GRADLENS_SKIP_HOST) {
  lines.push('host: skipped (GRADLENS_SKIP_HOST is set)');
} else {
  console.log(`\n=== extension host (${elapsed()})`);
  const resultFile = path.join(root, 'test', 'artifacts', 'host', 'result.json');
  fs.rmSync(resultFile, { force: true });
  const host = await run(process.execPath, ['test/host/run.mjs']);
  let result;
  try {
    result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } catch {
    result = undefined;
  }
  if (!result) {
    failed += 1;
    lines.push(`host: failed before any result (exit ${host.code})`);
  } else {
    const p1 = result.phase1;
    const paletteOk = Boolean(result.palette?.ok);
    passed += p1.passed + (paletteOk ? 1 : 0);
    failed += p1.failed + (paletteOk ? 0 : 1);
    skipped += p1.pending;
    if (host.code !== 0 && p1.failed === 0 && paletteOk) failed += 1;
    lines.push(`host: ${p1.passed} passed, ${p1.failed} failed (phase 1), palette flow: ${paletteOk ? 'ok' : 'FAILED'}`);
  }
}

// The dashboard in headless Chromium (test/webview/); the host tier's installer puts Debian's chromium there.
if (fs.existsSync('/usr/bin/chromium')) {
  console.log(`\n=== dashboard webview (${elapsed()})`);
  nodeTestCounts('webview', await run(process.execPath, ['scripts/run-tests.mjs', 'webview'], true));
} else if (process.env.GRADLENS_SKIP_HOST) {
  lines.push('webview: skipped (no /usr/bin/chromium, and GRADLENS_SKIP_HOST skipped the installer that brings it)');
} else {
  failed += 1;
  lines.push('webview: not run: /usr/bin/chromium is missing (node test/host/install-host.mjs installs it)');
}

if (process.env.GRADLENS_SKIP_HOST) {
  lines.push('start: skipped (GRADLENS_SKIP_HOST is set)');
} else {
  // `npm start` as a user runs it: the printed URL in Chromium, Check Gradients, Ctrl+C (test/start/).
  console.log(`\n=== npm start (${elapsed()})`);
  nodeTestCounts('start', await run(process.execPath, ['--test', '--test-reporter=spec', 'test/start/start.test.mjs'], true));
}

console.log(`\n=== summary (${elapsed()})`);
for (const line of lines) console.log(line);
console.log(`test: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
