// `npm start` as a user runs it (node --test test/start/start.test.mjs; npm test runs it after the host tier).
//
// Options and the desktop branch are checked without a server; then `npm start -- --server --port <free> --no-open`
// runs for real (build, vsix, the offline VS Code server), the printed URL is opened in headless Chromium,
// GradLens: Check Gradients runs from the palette on a buggy example and its failure toast must show
// (screenshot: test/artifacts/start-flow.png), and Ctrl+C (SIGINT to the process group, as a terminal sends it)
// must stop everything: exit 0, the server's process group gone, the port closed.
// The server's state goes to test/artifacts/start/state (GRADLENS_START_DIR), not to .vscode-test/start/.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO_ROOT } from '../host/install-host.mjs';
import { checkGradientsFlow, freePort, killGroup, launchBrowser, waitForWorkbench } from '../host/workbench.mjs';

const START = path.join(REPO_ROOT, 'scripts', 'start.mjs');
const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const SCRATCH = path.join(ARTIFACTS, 'start');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs start.mjs to completion (for the paths that return at once). */
function startSync(args, env = {}) {
  return spawnSync(process.execPath, [START, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000 });
}

describe('npm start: options', () => {
  test('--help prints the usage and exits 0', () => {
    const result = startSync(['--help']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Usage: npm start/);
    for (const option of ['--server', '--desktop', '--port N', '--host ADDR', '--no-open']) assert.ok(result.stdout.includes(option), option);
  });

  for (const [args, message] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port must be a port number/],
    [['--port', '70000'], /--port must be a port number/],
    [['--port'], /--port/],
    [['--host', 'not a host'], /--host must be an IP address or a host name/],
    [['--server', '--desktop'], /exclude each other/],
    [['--desktop', '--port', '8081'], /--port applies to the VS Code server only/],
    [['examples'], /Unexpected argument 'examples'/],
  ]) {
    test(`${args.join(' ')}: a clear error, exit 2`, () => {
      const result = startSync(args);
      assert.equal(result.status, 2, result.stdout + result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /npm start -- --help/);
    });
  }

  test('desktop VS Code when `code` is on the PATH: --extensionDevelopmentPath=<repo> on examples/', (t) => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) return t.skip('dist/ is not built');
    const bin = fs.mkdtempSync(path.join(scratchRoot(), 'fake-code-'));
    const record = path.join(bin, 'args.txt');
    fs.writeFileSync(path.join(bin, 'code'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${record}"\n`, { mode: 0o755 });
    try {
      const result = startSync(['--no-build'], { PATH: `${bin}${path.delimiter}${process.env.PATH}` });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.deepEqual(fs.readFileSync(record, 'utf8').trim().split('\n'), [`--extensionDevelopmentPath=${REPO_ROOT}`, '--disable-workspace-trust', '--new-window', path.join(REPO_ROOT, 'examples')]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

function scratchRoot() {
  fs.mkdirSync(SCRATCH, { recursive: true });
  return SCRATCH;
}

/** True when something accepts connections on 127.0.0.1:port. */
function isListening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pgid, ms) {
  for (const end = Date.now() + ms; groupAlive(pgid); await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (Date.now() > end) return false;
  }
  return true;
}

function groupProcesses(pgid) {
  const lines = spawnSync('ps', ['-eo', 'pgid=,pid=,ppid=,stat=,etime=,args='], { encoding: 'utf8' }).stdout.split('\n');
  return lines.filter((line) => line.trim().split(/\s+/)[0] === String(pgid)).join('\n');
}

describe('npm start: the VS Code server in a browser', () => {
  const cleanups = [];
  after(async () => {
    while (cleanups.length > 0) await cleanups.pop()();
  });

  test('prints a URL where GradLens: Check Gradients finds the bug; Ctrl+C stops everything', { timeout: 15 * 60 * 1000 }, async (t) => {
    const state = path.join(scratchRoot(), 'state');
    fs.rmSync(state, { recursive: true, force: true });
    const port = await freePort();
    const began = Date.now();
    const since = () => (Date.now() - began) / 1000;

    // As a terminal runs it: its own process group (Ctrl+C signals the whole group).
    const child = spawn(npm, ['start', '--', '--server', '--port', String(port), '--no-open'], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GRADLENS_START_DIR: state },
    });
    const log = fs.createWriteStream(path.join(SCRATCH, 'npm-start.log'));
    let output = '';
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const pids = { server: undefined };
    cleanups.push(async () => {
      // Only if the test failed half-way: nothing may outlive it.
      killGroup(child.pid, 'SIGKILL');
      if (pids.server) killGroup(pids.server, 'SIGKILL');
      await new Promise((resolve) => log.end(resolve));
    });
    const url = await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        log.write(chunk);
        output += chunk;
        const match = /^\s*(http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)\s*$/m.exec(output);
        if (match) resolve(match[1]);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(({ code, signal }) => reject(new Error(`npm start exited (${signal ?? code}) before printing a URL:\n${output.slice(-3000)}`)));
    });
    const urlSeconds = since();
    t.diagnostic(`URL printed after ${urlSeconds.toFixed(1)} s: ${url}`);
    assert.equal(url, `http://127.0.0.1:${port}/?folder=${path.join(REPO_ROOT, 'examples')}`);
    const serverPid = JSON.parse(fs.readFileSync(path.join(state, 'start.json'), 'utf8')).serverPid;
    pids.server = serverPid;
    assert.ok(groupAlive(serverPid), 'the server process group runs');

    // While it runs: a second start on the same state, and one on its port, stop at once with a clear error.
    const twice = startSync(['--server', '--no-build'], { GRADLENS_START_DIR: state });
    assert.equal(twice.status, 1, twice.stdout + twice.stderr);
    assert.match(twice.stderr, /npm start is already running \(pid \d+, http:\/\/127\.0\.0\.1:\d+\//);
    const busy = startSync(['--port', String(port), '--no-build'], { GRADLENS_START_DIR: path.join(scratchRoot(), 'state-busy') });
    assert.equal(busy.status, 1, busy.stdout + busy.stderr);
    assert.match(busy.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));

    const browser = await launchBrowser(path.join(state, 'home'), path.join(SCRATCH, 'workbench.log'));
    cleanups.push(() => browser.close());
    const { page } = browser;
    await page.goto(url);
    await waitForWorkbench(page);
    const workbenchSeconds = since();
    t.diagnostic(`workbench ready after ${workbenchSeconds.toFixed(1)} s`);
    let notification;
    try {
      notification = await checkGradientsFlow(page, (line) => t.diagnostic(`${since().toFixed(1)} s: ${line}`));
    } finally {
      await page.screenshot({ path: path.join(ARTIFACTS, 'start-flow.png') }).catch(() => {});
    }
    t.diagnostic(`notification "${notification}"`);
    assert.match(notification, /GradLens/);
    // The one notification of a failed check names the wrong element (quiet by default: nothing for a pass).
    assert.match(notification, /gradient wrong at b\[2\]/);
    await browser.close();
    cleanups.pop();

    // Ctrl+C.
    const sigintAt = Date.now();
    process.kill(-child.pid, 'SIGINT');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 20000).unref());
    const result = await Promise.race([exited, timeout]);
    const stopSeconds = (Date.now() - sigintAt) / 1000;
    t.diagnostic(`npm start exited ${stopSeconds.toFixed(1)} s after SIGINT`);
    assert.notEqual(result, 'timeout', `npm start still runs 20 s after SIGINT:\n${output.slice(-2000)}`);
    // start.mjs exits 0 after stopping the server; npm itself, interrupted by the same SIGINT, re-raises it once its
    // script has exited (npm's convention for any script), so npm's own status is SIGINT.
    assert.ok((result.code === 0 && result.signal === null) || result.signal === 'SIGINT', `npm start ended with ${JSON.stringify(result)}:\n${output.slice(-2000)}`);
    assert.doesNotMatch(output, /^\[start\] /m, 'no error from start.mjs');
    assert.match(output, /SIGINT: stopping the VS Code server[\s\S]*stopped/);
    // SIGKILLed processes stay in their group as zombies until they are reaped: allow a few seconds.
    assert.equal(await groupGone(serverPid, 10000), true, `server processes are left:\n${groupProcesses(serverPid)}`);
    assert.equal(await groupGone(child.pid, 10000), true, `npm start processes are left:\n${groupProcesses(child.pid)}`);
    assert.equal(await isListening(port), false, `port ${port} is closed`);
    assert.equal(fs.existsSync(path.join(state, 'start.json')), false, 'the lock is released');
    fs.writeFileSync(path.join(SCRATCH, 'timings.json'), `${JSON.stringify({ urlSeconds, workbenchSeconds, stopSeconds, notification }, null, 2)}\n`);
  });
});
