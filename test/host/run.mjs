// Runs GradLens in a real VS Code 1.100.3 extension host (code-server, driven by headless Chromium).
//
//   node test/host/run.mjs [--phase 1|2] [--grep REGEX] [--timeout SECONDS] [--vsix FILE] [--keep]
//
// Phase 1: the mocha suite out/test/host/suite (compiled from test/host/suite/*.ts by `npm run compile`)
//          in an extension host with extensionDevelopmentPath = this repo, on a fresh copy of
//          test/host/workspace/. The host's console (mocha's spec output) is streamed to stdout.
// Phase 2: as a user would: the packaged gradlens-<version>.vsix (`npm run package`) installed into a
//          fresh extensions dir, the workbench on a copy of examples/, Quick Open a buggy example,
//          F1 "GradLens: Check Gradients", Enter, and the failure notification must show.
//
// Builds nothing: run `npm run build && npm run compile && npm run package` first (npm test does).
// Installs the host on first use (test/host/install-host.mjs). Scratch state, logs and screenshots go
// to test/artifacts/ (git-ignored); the last line is a summary, test/artifacts/host/result.json the same as JSON.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, parseArgs } from 'node:util';
import { REPO_ROOT, installHost } from './install-host.mjs';
import * as workbench from './workbench.mjs';
import { checkGradientsFlow, freePort, installVsix, quickPick, waitForWorkbench, workbenchUrl } from './workbench.mjs';

/** Phase 2's expectations (defined in workbench.mjs, shared with `npm start`'s test). */
export { PALETTE_FLOW } from './workbench.mjs';

const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const SCRATCH = path.join(ARTIFACTS, 'host');
const TESTS_PATH = path.join(REPO_ROOT, 'out', 'test', 'host', 'suite', 'index');
const FIXTURE_WORKSPACE = path.join(REPO_ROOT, 'test', 'host', 'workspace');
const RESULT_PREFIX = 'GRADLENS_HOST_RESULT ';
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (line) => console.log(`[host ${seconds()} s] ${line}`);

// ---------------------------------------------------------------- cleanup on every path
const cleanups = [];
/** Registers fn to run once at the end, on failure or on a signal; returns an unregister function. */
function onCleanup(fn) {
  cleanups.push(fn);
  return () => cleanups.splice(cleanups.indexOf(fn), 1);
}
async function cleanup() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.error(`[host] cleanup: ${error instanceof Error ? error.message : error}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n[host] ${signal}: stopping the server and the browser`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- helpers
function freshDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh temporary copy of a folder (removed at the end unless --keep). */
function tempCopy(source, label, keep) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gradlens-host-${label}-`));
  fs.cpSync(source, dir, { recursive: true });
  if (!keep) onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Scratch state of one server: HOME, user data, config (keeps the real home clean). */
function scratch(name) {
  return workbench.serverState(freshDir(path.join(SCRATCH, name)));
}

/** Starts code-server on a free port; resolves once it listens. Killed by cleanup(). */
async function startServer(host, s, workspace, env = {}, trusted = true) {
  const server = workbench.startServer(host, s, workspace, { port: await freePort(), env, trusted });
  onCleanup(server.stop);
  await server.listening;
  return server;
}

function launchBrowser(s) {
  return workbench.launchBrowser(s.home, s.workbenchLog, onCleanup);
}

async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  try {
    await page.screenshot({ path: file });
    say(`screenshot ${path.relative(REPO_ROOT, file)}`);
  } catch (error) {
    say(`screenshot ${name} failed: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * Workbench messages not worth showing on stdout (they stay in test/artifacts/host/phase1/workbench.log).
 * The extension host's console.log (mocha's output, the extension's own logging) reaches codeAutomationLog
 * mixed with the workbench's own log; these are the workbench's.
 */
const NOISE = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^ChatSessionStore:/,
  /ENOTFOUND|ERR_NAME_NOT_RESOLVED/, // extension gallery queries (offline)
  /vsda/,
  /same-origin iframe/,
  /DialogService: refused to show dialog in tests/,
];

// ---------------------------------------------------------------- phase 1: the mocha suite
/**
 * The Python extension cannot be installed offline: a stand-in with its interpreter API
 * (test/host/fake-python-extension, selection = the fakePython.interpreter setting, none by default)
 * lets the suite test that GradLens prefers the Python extension's interpreter.
 */
async function installFakePythonExtension(host, s) {
  const vsix = path.join(s.dir, 'fake-python.vsix');
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
  execFileSync(vsce, ['package', '--allow-missing-repository', '--skip-license', '-o', vsix], { cwd: path.join(REPO_ROOT, 'test', 'host', 'fake-python-extension'), stdio: 'ignore' });
  await installVsix(host, s, vsix);
}

async function runSuite(host, options, trusted) {
  const s = scratch(trusted ? 'phase1' : 'phase1-untrusted');
  if (!fs.existsSync(`${TESTS_PATH}.js`)) throw new Error(`${path.relative(REPO_ROOT, TESTS_PATH)}.js is missing: run \`npm run compile\` first`);
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  const workspace = tempCopy(FIXTURE_WORKSPACE, 'workspace', options.keep);
  const env = { GRADLENS_HOST_TRUST: trusted ? 'trusted' : 'untrusted' };
  if (options.grep) env.GRADLENS_HOST_GREP = options.grep;
  await installFakePythonExtension(host, s);
  const { authority } = await startServer(host, s, workspace, env, trusted);
  say(`phase 1${trusted ? '' : ' (untrusted workspace)'}: server on ${authority}, workspace ${workspace}`);
  const { page, workbenchLog } = await launchBrowser(s);

  let result;
  let done;
  const exited = new Promise((resolve) => (done = resolve));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // args: console arguments of the workbench log, a format string first (mocha's spec reporter uses %s, %d).
    const list = [].concat(args);
    const text = typeof list[0] === 'string' ? format(...list) : list.map((arg) => JSON.stringify(arg)).join(' ');
    workbenchLog.write(`[${type}] ${text}\n`);
    if (text.startsWith(RESULT_PREFIX)) {
      try {
        result = JSON.parse(text.slice(RESULT_PREFIX.length));
      } catch {
        /* an unrelated line */
      }
      return;
    }
    if (NOISE.some((pattern) => pattern.test(text))) return;
    console.log(type === 'error' ? `[host error] ${text}` : text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => done(code));
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${REPO_ROOT}`],
    ['extensionTestsPath', `vscode-remote://${authority}${TESTS_PATH}`],
    ['skipWelcome', 'true'],
  ];
  await page.goto(workbenchUrl(authority, workspace, payload));
  say(`phase 1: workbench loaded, waiting for the suite (timeout ${options.timeout} s)`);
  let timer;
  const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeout * 1000)))]);
  clearTimeout(timer);
  await screenshot(page, trusted ? 'host-suite' : 'host-suite-untrusted');
  // The suite's optimizer runs stream into the dashboard: check, inside the webview, that their records arrived.
  const dashboard = trusted && code === 0 && !options.grep ? await dashboardCheck(page) : null;
  if (dashboard?.ok) await readmeScreenshot(page);
  await cleanup();
  if (code === 'timeout') say(`phase 1: no codeAutomationExit within ${options.timeout} s`);
  else say(`phase 1: extension host exited with ${code}`);
  const passed = (result?.passed ?? 0) + (dashboard?.ok ? 1 : 0);
  const failed = (result?.failed ?? (code === 0 ? 0 : 1)) + (dashboard && !dashboard.ok ? 1 : 0);
  return { exitCode: code, passed, failed, pending: result?.pending ?? 0, reported: Boolean(result), logs: path.relative(REPO_ROOT, s.dir) };
}

/**
 * The picture in the README: the workbench after the suite, notifications cleared, the dashboard
 * beside the editor with its CodeLens (test/artifacts/readme-dashboard.png; docs/images/ holds a copy).
 * Best effort: a failure here is reported, not counted.
 */
async function readmeScreenshot(page) {
  try {
    await quickPick(page, 'F1', 'Clear All Notifications', 'Clear All Notifications');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(1500);
    await screenshot(page, 'readme-dashboard');
  } catch (error) {
    say(`phase 1: no README screenshot (${error instanceof Error ? error.message : error})`);
  }
}

/**
 * Reads the dashboard's own view of what it received (window.gradlensDashboard,
 * webview/probe.ts) from its frame: the runs of the suite must be there with records.
 */
async function dashboardCheck(page) {
  const deadline = Date.now() + 30_000;
  let tables = null;
  while (tables === null && Date.now() < deadline) {
    for (const frame of page.frames()) {
      try {
        tables = await frame.evaluate(() => globalThis.gradlensDashboard?.tables() ?? null);
      } catch {
        tables = null;
      }
      if (tables) break;
    }
    if (!tables) await page.waitForTimeout(500);
  }
  const records = (tables ?? []).reduce((sum, table) => sum + table.records, 0);
  const ok = Boolean(tables) && tables.length > 0 && records > 0;
  say(`phase 1: dashboard ${ok ? 'received' : 'did NOT receive'} the suite's runs (${tables?.length ?? 0} runs, ${records} records in the webview)`);
  return { ok, runs: tables?.length ?? 0, records };
}

// ---------------------------------------------------------------- phase 2: the palette, as a user would
/**
 * The installed extension's page (F1 "View: Show Extensions", then GradLens): its README,
 * rendered by VS Code from the vsix in a webview, must show every picture (loaded, with a size).
 */
async function readmePictures(page) {
  await page.keyboard.press('Escape');
  // The Extensions view (offline, it lists the installed extensions), then GradLens's row.
  await quickPick(page, 'F1', 'View: Show Extensions', 'View: Show Extensions');
  await page.keyboard.press('Enter');
  const row = page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'GradLens' }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  const deadline = Date.now() + 60_000;
  let pictures = [];
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      try {
        pictures = await frame.evaluate(() => {
          const { document } = globalThis;
          return document.querySelector('h1, h2') && document.body.innerText.includes('Ctrl+Alt+G')
            ? [...document.images].map((image) => ({ src: image.getAttribute('src'), loaded: image.complete && image.naturalWidth > 0, width: image.naturalWidth }))
            : [];
        });
      } catch {
        pictures = [];
      }
      if (pictures.length > 0 && pictures.every((picture) => picture.loaded)) return pictures;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`the README on the extension's page did not show its pictures within 60 s: ${JSON.stringify(pictures)}`);
}

async function runPaletteFlow(host, options) {
  const s = scratch('phase2');
  const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
  const vsix = path.resolve(options.vsix ?? path.join(REPO_ROOT, `gradlens-${version}.vsix`));
  if (!fs.existsSync(vsix)) throw new Error(`${path.relative(REPO_ROOT, vsix)} is missing: run \`npm run package\` first`);
  await installVsix(host, s, vsix);
  say(`phase 2: installed ${path.basename(vsix)} into ${path.relative(REPO_ROOT, s.extensions)}`);
  const workspace = tempCopy(path.join(REPO_ROOT, 'examples'), 'examples', options.keep);
  const { authority } = await startServer(host, s, workspace);
  const { page } = await launchBrowser(s);
  try {
    await page.goto(workbenchUrl(authority, workspace, [['skipWelcome', 'true']]));
    await waitForWorkbench(page);
    say('phase 2: workbench ready');
    const text = await checkGradientsFlow(page, (line) => say(`phase 2: ${line}`));
    await screenshot(page, 'palette-flow');
    say(`phase 2: notification "${text}"`);
    // The Problems panel names the wrong element (test/artifacts/check-gradients.png: the README's picture).
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel .monaco-list-row', { hasText: /gradient wrong at/ }).first().waitFor({ timeout: 30000 });
    // Only GradLens's marker (the copy of examples/ has no gradlens types for the TypeScript server).
    const filter = page.locator('.viewpane-filter input, .viewpane-filter textarea').first();
    await filter.click();
    await page.keyboard.type('gradient wrong');
    await page.waitForTimeout(1000);
    // The marker's row opens the failing export in the editor.
    await page.locator('.markers-panel .monaco-list-row', { hasText: /gradient wrong at/ }).first().click();
    await page.waitForTimeout(1500);
    await screenshot(page, 'check-gradients');
    const pictures = await readmePictures(page);
    await screenshot(page, 'extension-readme');
    say(`phase 2: the extension's page shows the README's ${pictures.length} pictures (${pictures.map((picture) => `${picture.src.slice(0, 22)}…: ${picture.width} px wide`).join(', ')})`);
    return { ok: true, notification: text, readmePictures: pictures.length, logs: path.relative(REPO_ROOT, s.dir) };
  } catch (error) {
    await screenshot(page, 'palette-flow');
    throw error;
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const { values } = parseArgs({
    options: {
      phase: { type: 'string' },
      grep: { type: 'string' },
      timeout: { type: 'string', default: '600' },
      vsix: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const phases = values.phase ? [values.phase] : ['1', '2'];
  if (phases.some((phase) => phase !== '1' && phase !== '2')) throw new Error(`--phase must be 1 or 2, got ${values.phase}`);
  const options = { grep: values.grep, timeout: Number(values.timeout) || 600, vsix: values.vsix, keep: values.keep };
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  const host = await installHost();
  say(host.installed ? `host installed in ${host.seconds.toFixed(1)} s` : 'host already installed');

  const summary = { phase1: null, palette: null };
  if (phases.includes('1')) {
    const t = Date.now();
    try {
      // The suite in a trusted workspace, then its untrusted-workspace tests in a second host.
      const trusted = await runSuite(host, options, true);
      const untrusted = await runSuite(host, options, false);
      summary.phase1 = {
        exitCode: trusted.exitCode === 0 ? untrusted.exitCode : trusted.exitCode,
        passed: trusted.passed + untrusted.passed,
        failed: trusted.failed + untrusted.failed,
        pending: trusted.pending + untrusted.pending,
        reported: trusted.reported && untrusted.reported,
        logs: [trusted.logs, untrusted.logs],
      };
    } catch (error) {
      await cleanup();
      summary.phase1 = { exitCode: 'error', passed: 0, failed: 1, pending: 0, reported: false, error: error instanceof Error ? error.message : String(error) };
      console.error(`[host] phase 1 failed: ${summary.phase1.error}`);
    }
    summary.phase1.seconds = (Date.now() - t) / 1000;
  }
  if (phases.includes('2')) {
    const t = Date.now();
    try {
      summary.palette = await runPaletteFlow(host, options);
    } catch (error) {
      await cleanup();
      summary.palette = { ok: false, error: error instanceof Error ? error.message : String(error) };
      console.error(`[host] phase 2 (palette flow) failed: ${summary.palette.error}`);
    }
    summary.palette.seconds = (Date.now() - t) / 1000;
  }
  summary.seconds = (Date.now() - started) / 1000;
  fs.mkdirSync(SCRATCH, { recursive: true });
  fs.writeFileSync(path.join(SCRATCH, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const p1 = summary.phase1;
  const phase1Ok = !p1 || (p1.exitCode === 0 && p1.failed === 0 && p1.reported);
  const paletteOk = !summary.palette || summary.palette.ok;
  const parts = [];
  if (p1) parts.push(`${p1.passed} passed, ${p1.failed} failed (phase 1${p1.reported ? '' : p1.exitCode === 'timeout' ? `: timed out after ${options.timeout} s` : `: no suite result, host exit ${p1.exitCode}`}, ${p1.seconds.toFixed(1)} s)`);
  if (summary.palette) parts.push(`palette flow: ${summary.palette.ok ? 'ok' : 'FAILED'} (${summary.palette.seconds.toFixed(1)} s)`);
  console.log(`host: ${parts.join(', ')}`);
  return phase1Ok && paletteOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    console.error(`[host] ${error instanceof Error ? error.message : error}`);
    await cleanup();
    process.exit(1);
  },
);
