// A VS Code workbench on the offline host (code-server, test/host/install-host.mjs) and the helpers
// that drive it like a user: start the server in its own process group (killed on every path), install
// a .vsix, open the workbench in headless Chromium, Quick Open and the command palette. Shared by
// test/host/run.mjs (the extension-host tests), scripts/start.mjs (`npm start`) and test/start/.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CHROMIUM, REPO_ROOT } from './install-host.mjs';

/** The palette flow's expectations. The notification wording may change: adjust it here. */
export const PALETTE_FLOW = {
  /** A file of examples/ with a deliberately buggy problem, opened through Quick Open. */
  file: 'softmax-classifier.grad.ts',
  /** The palette row (category: title) that is run. */
  command: 'GradLens: Check Gradients',
  /** A notification toast whose text matches this shows the failure. */
  failureToast: /GradLens\b[\s\S]*\bfail/i,
  /** Seconds from Enter to that toast (bundling and checking run in the sandboxed runner). */
  toastTimeout: 120,
};

// ---------------------------------------------------------------- process groups
/** Last resort (process.exit inside a handler): synchronous SIGKILL of every server process group still running. */
const serverGroups = new Set();
process.on('exit', () => {
  for (const pid of serverGroups) killGroup(pid, 'SIGKILL');
});

/** Sends a signal to the process group led by pid; false when there is none. */
export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal); // the server was started detached: its own process group
    return true;
  } catch {
    return false;
  }
}

/** A port that is free on `host` now (the OS picks it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- server state and arguments
/**
 * The state of one server under `dir`: HOME, user data, extensions, config (keeps the real home clean).
 * Creates what is missing and keeps what is there.
 */
export function serverState(dir) {
  const paths = {
    dir,
    home: path.join(dir, 'home'),
    userData: path.join(dir, 'user-data'),
    extensions: path.join(dir, 'extensions'),
    config: path.join(dir, 'config.yaml'),
    serverLog: path.join(dir, 'server.log'),
    workbenchLog: path.join(dir, 'workbench.log'),
  };
  for (const sub of [paths.home, paths.userData, paths.extensions]) fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(paths.config, 'auth: none\ncert: false\n');
  // First use only (the user's later changes stay): the repository's own git would otherwise ask
  // about "a git repository found in the parent folders" whenever examples/ or a fixture is opened.
  const settings = path.join(paths.userData, 'User', 'settings.json');
  if (!fs.existsSync(settings)) {
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(settings, `${JSON.stringify({ 'git.openRepositoryInParentFolders': 'never' }, null, 2)}\n`);
  }
  return paths;
}

export function serverArgs(host, s) {
  return [host.entry, '--config', s.config, '--user-data-dir', s.userData, '--extensions-dir', s.extensions, '--disable-telemetry', '--disable-update-check'];
}

export function serverEnv(s, extra = {}) {
  const env = { ...process.env, HOME: s.home, XDG_CONFIG_HOME: path.join(s.home, '.config'), XDG_DATA_HOME: path.join(s.home, '.local', 'share'), XDG_CACHE_HOME: path.join(s.home, '.cache'), ...extra };
  delete env.VSCODE_IPC_HOOK_CLI; // when run from a VS Code terminal
  // code-server lets these override --bind-addr.
  delete env.PORT;
  delete env.CODE_SERVER_HOST;
  return env;
}

/** host:port for --bind-addr and URLs (IPv6 addresses in brackets). */
export function authorityOf(address, port) {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Starts code-server on `workspace`, detached in its own process group, its output to s.serverLog.
 * Returns at once; `listening` resolves once it listens (rejects if it exits first or takes 60 s),
 * `exited` with its exit code or signal, and `stop()` kills the whole group (SIGTERM, SIGKILL after 5 s).
 * @param {{ port: number, address?: string, env?: Record<string, string>, trusted?: boolean }} options
 */
export function startServer(host, s, workspace, { port, address = '127.0.0.1', env = {}, trusted = true }) {
  const log = fs.createWriteStream(s.serverLog);
  // Untrusted: workspace trust stays on, and in test mode the workbench refuses the trust dialog, so the folder stays untrusted.
  const trust = trusted ? ['--disable-workspace-trust'] : [];
  const authority = authorityOf(address, port);
  const child = spawn(process.execPath, [...serverArgs(host, s), '--auth', 'none', '--bind-addr', authority, ...trust, workspace], {
    env: serverEnv(s, env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serverGroups.add(child.pid);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      if (killGroup(child.pid, 'SIGTERM')) {
        const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
        await new Promise((resolve) => setTimeout(resolve, 200));
        killGroup(child.pid, 'SIGKILL'); // extension host and watchers, if still there
      }
      serverGroups.delete(child.pid);
      await new Promise((resolve) => log.end(resolve));
    })());
  let output = '';
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s (log: ${path.relative(REPO_ROOT, s.serverLog)})`)), 60000);
    const onData = (chunk) => {
      if (!log.writableEnded) log.write(chunk);
      if (output === undefined) return;
      output += chunk;
      if (output.includes('HTTP server listening on')) {
        clearTimeout(timer);
        output = undefined;
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited (${code}) before listening:\n${(output ?? '').slice(-2000)}`));
    });
  });
  listening.catch(() => {}); // the caller awaits it; no unhandled rejection when it exits later
  return { child, pid: child.pid, port, authority, listening, exited, stop };
}

/** Installs a .vsix into s.extensions with the server's CLI (--force: also over the same or a newer version). */
export async function installVsix(host, s, vsix, { force = false } = {}) {
  const child = spawn(process.execPath, [...serverArgs(host, s), '--install-extension', vsix, ...(force ? ['--force'] : [])], { env: serverEnv(s), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => child.on('exit', (exitCode, signal) => resolve(signal ?? exitCode)));
  fs.writeFileSync(path.join(s.dir, 'install-extension.log'), output);
  if (code !== 0 || !/successfully installed/i.test(output)) throw new Error(`installing ${path.basename(vsix)} failed (${code}):\n${output.trim()}`);
}

/**
 * The workbench URL of a folder. With a payload (an array of [key, value] pairs, e.g. [['skipWelcome', 'true']])
 * the folder is fully encoded; without one the path keeps its slashes, as users see it.
 */
export function workbenchUrl(authority, workspace, payload) {
  if (!payload) return `http://${authority}/?folder=${workspace.split('/').map(encodeURIComponent).join('/')}`;
  return `http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

// ---------------------------------------------------------------- the browser
/**
 * Headless Chromium (Debian's, driven by playwright-core) with HOME = `home`, one 1280×800 page whose
 * console goes to `logFile`. `close()` closes the browser and the log.
 * @param {(fn: () => unknown) => void} [onCleanup] registers close() with the caller's cleanup
 */
export async function launchBrowser(home, logFile, onCleanup = () => {}) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new Error('playwright-core is not installed: run `npm ci`');
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    env: { ...process.env, HOME: home },
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  onCleanup(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const workbenchLog = fs.createWriteStream(logFile);
  onCleanup(() => new Promise((resolve) => workbenchLog.end(resolve)));
  page.on('console', (message) => workbenchLog.write(`[console.${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => workbenchLog.write(`[pageerror] ${error.message}\n`));
  const close = async () => {
    await browser.close();
    await new Promise((resolve) => workbenchLog.end(resolve));
  };
  return { browser, page, workbenchLog, close };
}

// ---------------------------------------------------------------- driving the workbench
/** Waits until the workbench shows its status bar and the explorer. */
export async function waitForWorkbench(page, timeout = 60000) {
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout });
  await page.waitForSelector('.explorer-folders-view', { timeout });
}

/** Opens the quick input with `key`, types `text` and waits for a row containing `row`; retries while the input or the list is not ready. */
export async function quickPick(page, key, text, row) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const match = page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      // A busy workbench can swallow the first key press (focus still moving), so the input opening is retried too.
      await page.keyboard.press(key);
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await page.keyboard.type(text);
      await match.waitFor({ timeout: 2000 });
      return attempt;
    } catch (error) {
      if (attempt >= 20) throw new Error(`"${row}" never appeared after ${key} + "${text}" (${attempt} attempts): ${error instanceof Error ? error.message : error}`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
  }
}

/**
 * PALETTE_FLOW in a ready workbench on examples/: Quick Open the buggy example, F1 "GradLens: Check Gradients",
 * Enter, and wait for the failure notification. Returns the notification's text (the toast stays on screen).
 * @param {(line: string) => void} [say] progress lines
 */
export async function checkGradientsFlow(page, say = () => {}) {
  const opened = await quickPick(page, 'Control+P', PALETTE_FLOW.file, PALETTE_FLOW.file);
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: PALETTE_FLOW.file }).waitFor({ timeout: 30000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 30000 });
  say(`opened ${PALETTE_FLOW.file} (Quick Open attempt ${opened})`);

  const ran = await quickPick(page, 'F1', PALETTE_FLOW.command.replace(/^[^:]*:\s*/, ''), PALETTE_FLOW.command);
  await page.keyboard.press('Enter');
  say(`ran "${PALETTE_FLOW.command}" (palette attempt ${ran}), waiting for the failure notification`);
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: PALETTE_FLOW.failureToast }).first();
  try {
    await toast.waitFor({ timeout: PALETTE_FLOW.toastTimeout * 1000 });
  } catch {
    const shown = await page.locator('.notifications-toasts .notification-toast').allInnerTexts().catch(() => []);
    throw new Error(`no notification matching ${PALETTE_FLOW.failureToast} within ${PALETTE_FLOW.toastTimeout} s; toasts shown: ${JSON.stringify(shown)}`);
  }
  const message = toast.locator('.notification-list-item-message');
  const text = ((await message.count()) > 0 ? await message.first().innerText() : await toast.innerText()).replace(/\s+/g, ' ').trim();
  await page.waitForTimeout(600); // the toast slides in
  return text;
}
