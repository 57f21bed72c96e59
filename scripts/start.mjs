// `npm start`: build GradLens (dist/ and the .vsix), then open VS Code on examples/ with it loaded.
//
//   npm start [-- --server|--desktop] [--port N] [--host ADDR] [--no-open] [--no-build]   (--help for details)
//
// Desktop: `code --extensionDevelopmentPath=<repo>` when `code` is on the PATH (it returns once the window opens).
// Server (otherwise, or --server): the project's offline VS Code Server host (code-server 4.100.3 = VS Code
// 1.100.3, installed into .vscode-test/ on first use by test/host/install-host.mjs) with the fresh .vsix
// installed into .vscode-test/start/ (user data, settings and extensions persist between starts), listening
// on 127.0.0.1; prints the URL and runs until Ctrl+C, which stops the server's whole process group.
// GRADLENS_START_DIR replaces .vscode-test/start/ (the tests use a scratch one).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CACHE_ROOT, CODE_SERVER_VERSION, REPO_ROOT, VSCODE_VERSION, installHost, isHostInstalled } from '../test/host/install-host.mjs';
import { authorityOf, freePort, installVsix, killGroup, serverState, startServer, workbenchUrl } from '../test/host/workbench.mjs';

const EXAMPLES = path.join(REPO_ROOT, 'examples');
const STATE_DIR = process.env.GRADLENS_START_DIR ? path.resolve(process.env.GRADLENS_START_DIR) : path.join(CACHE_ROOT, 'start');
const LOCK = path.join(STATE_DIR, 'start.json');
const DEFAULT_PORT = 8080;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const USAGE = `Usage: npm start [-- OPTIONS]        (or: node scripts/start.mjs [OPTIONS])

Builds GradLens (dist/ and the .vsix) and opens VS Code on examples/ with it loaded:
desktop VS Code (code --extensionDevelopmentPath=<repo>) when \`code\` is on the PATH,
otherwise a local VS Code ${VSCODE_VERSION} server (code-server ${CODE_SERVER_VERSION}) that you open in a
browser at the printed URL. The server is installed into .vscode-test/ on first use
(about 2 minutes, once; Debian packages need root); Ctrl+C stops it.

Options:
  --server       use the VS Code server even when \`code\` is on the PATH
  --desktop      use desktop VS Code (\`code\` must be on the PATH)
  --port N       server port (default ${DEFAULT_PORT}, or a free port when ${DEFAULT_PORT} is taken)
  --host ADDR    server address (default 127.0.0.1, this machine only). The server has
                 no authentication: any other address lets everyone who reaches it use
                 VS Code, and its terminal, as you
  --no-open      do not open the URL in a browser
  --no-build     skip \`npm run package\`; use the dist/ and .vsix already built
  -h, --help     show this help
--port, --host and --no-open imply --server.

Settings, state and the installed extension persist in ${shown(STATE_DIR)}/ (delete it to start afresh).
\`npm run demo\` checks the examples in the terminal instead.`;

const started = Date.now();
const say = (line) => console.log(`[start ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);

class UsageError extends Error {}

/** The options, or a UsageError. */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'boolean', default: false },
        desktop: { type: 'boolean', default: false },
        port: { type: 'string' },
        host: { type: 'string' },
        'no-open': { type: 'boolean', default: false },
        'no-build': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true };
  if (values.server && values.desktop) throw new UsageError('--server and --desktop exclude each other');
  let port;
  if (values.port !== undefined) {
    port = /^\d+$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new UsageError(`--port must be a port number from 1 to 65535, got "${values.port}"`);
  }
  const address = values.host;
  if (address !== undefined && net.isIP(address) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(address)) {
    throw new UsageError(`--host must be an IP address or a host name, got "${address}"`);
  }
  const serverOnly = ['port', 'host', 'no-open'].filter((name) => (name === 'no-open' ? values[name] : values[name] !== undefined));
  if (values.desktop && serverOnly.length > 0) throw new UsageError(`--${serverOnly[0]} applies to the VS Code server only, not to --desktop`);
  const mode = values.server || serverOnly.length > 0 ? 'server' : values.desktop ? 'desktop' : 'auto';
  return { help: false, mode, port, address: address ?? '127.0.0.1', open: !values['no-open'], build: !values['no-build'] };
}

/** The absolute path of an executable on the PATH, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** A path as the user reads it: relative inside the repository, absolute elsewhere. */
function shown(file) {
  const relative = path.relative(REPO_ROOT, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function isLoopback(address) {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

/** True when `port` can be bound on `address` now. */
function portIsFree(port, address) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, address, () => probe.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------- stopping on every path
let building; // the `npm run package` child while it runs
let server; // the code-server handle once started
let stopping = false;

async function stop(reason, exitCode) {
  if (stopping) return; // npm forwards the terminal's SIGINT a second time: one stop is enough
  stopping = true;
  if (building) building.kill('SIGTERM');
  if (server) {
    say(`${reason}: stopping the VS Code server`);
    await server.stop();
    say('stopped');
  }
  releaseLock();
  process.exit(exitCode);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // After a clean stop of a running server, Ctrl+C is the normal way out: exit 0. Interrupted earlier: 130.
  process.on(signal, () => void stop(signal, server ? 0 : 130));
}

// ---------------------------------------------------------------- one server per state dir
function processCommand(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Refuses to run twice on the same state; kills a server left behind by a start that was killed (SIGKILL). */
function takeLock() {
  let previous;
  try {
    previous = JSON.parse(fs.readFileSync(LOCK, 'utf8'));
  } catch {
    previous = undefined;
  }
  if (previous && previous.pid !== process.pid && processCommand(previous.pid).includes('start.mjs')) {
    throw new Error(`npm start is already running (pid ${previous.pid}${previous.url ? `, ${previous.url}` : ''}); stop it with Ctrl+C first`);
  }
  if (previous?.serverPid && processCommand(previous.serverPid).includes('code-server')) {
    say(`stopping the server left behind by an earlier start (process group ${previous.serverPid})`);
    killGroup(previous.serverPid, 'SIGKILL');
  }
  writeLock({});
}
function writeLock(extra) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  fs.writeFileSync(LOCK, `${JSON.stringify({ pid: process.pid, ...extra }, null, 2)}\n`);
}
function releaseLock() {
  try {
    if (JSON.parse(fs.readFileSync(LOCK, 'utf8')).pid === process.pid) fs.rmSync(LOCK, { force: true });
  } catch {
    /* none */
  }
}

// ---------------------------------------------------------------- steps
function build() {
  say('building the extension and the .vsix (npm run package)');
  return new Promise((resolve, reject) => {
    building = spawn(npm, ['run', '--silent', 'package'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    building.on('error', (error) => reject(new Error(`npm run package: ${error.message}`)));
    building.on('exit', (code, signal) => {
      building = undefined;
      if (code === 0) resolve();
      else reject(new Error(`npm run package failed (${signal ?? `exit ${code}`})`));
    });
  });
}

function vsixPath() {
  const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
  return path.join(REPO_ROOT, `gradlens-${version}.vsix`);
}

async function runDesktop(code) {
  say(`opening desktop VS Code (${code}) on examples/ with GradLens loaded from ${REPO_ROOT}`);
  // The examples are this project's own files, so they are trusted: GradLens runs nothing in an untrusted workspace.
  const args = [`--extensionDevelopmentPath=${REPO_ROOT}`, '--disable-workspace-trust', '--new-window', EXAMPLES];
  const child = spawn(code, args, { stdio: 'inherit' });
  const exitCode = await new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`[start] ${code}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
  if (exitCode === 0) say('VS Code is open (an Extension Development Host window); rebuild with `npm start` after changing the code');
  return exitCode;
}

async function runServer(options) {
  const firstTime = !isHostInstalled();
  if (firstTime) say(`first start: installing the VS Code ${VSCODE_VERSION} server into ${path.relative(REPO_ROOT, CACHE_ROOT)}/ (about 2 minutes, once)`);
  const host = await installHost({ log: (line) => say(`host: ${line}`) });
  if (host.installed) say(`VS Code server installed in ${host.seconds.toFixed(1)} s`);

  let port = options.port;
  if (port === undefined) {
    port = (await portIsFree(DEFAULT_PORT, options.address)) ? DEFAULT_PORT : await freePort(options.address);
    if (port !== DEFAULT_PORT) say(`port ${DEFAULT_PORT} is in use; using ${port} (choose one with --port N)`);
  } else if (!(await portIsFree(port, options.address))) {
    throw new Error(`port ${port} on ${options.address} is in use (or not available); choose another with --port N, or omit --port`);
  }

  const s = serverState(STATE_DIR);
  const vsix = vsixPath();
  if (!fs.existsSync(vsix)) throw new Error(`${path.relative(REPO_ROOT, vsix)} is missing: run without --no-build`);
  await installVsix(host, s, vsix, { force: true }); // every start: the extension is the one just built
  say(`installed ${path.basename(vsix)} into ${shown(s.extensions)}`);

  if (!isLoopback(options.address)) {
    console.warn(`[start] WARNING: listening on ${options.address}, not on 127.0.0.1: the server has NO authentication. Anyone who can reach this machine on port ${port} gets VS Code, and its terminal, as ${os.userInfo().username}.`);
  }

  // Workspace trust: the server runs with --disable-workspace-trust (startServer's default). examples/ is this
  // project's own code, and GradLens runs nothing from an untrusted workspace, so a trust prompt would only
  // stand between a newcomer and the demo. Pre-seeding trust for examples/ alone would mean writing VS Code's
  // state database; the flag is the supported switch. It applies to any folder opened in this server, which
  // is a local development instance of this repository.
  server = startServer(host, s, EXAMPLES, { port, address: options.address });
  writeLock({ serverPid: server.pid });
  await server.listening;
  const local = ['0.0.0.0', '::'].includes(options.address) ? authorityOf('127.0.0.1', port) : authorityOf(options.address, port);
  const url = workbenchUrl(local, EXAMPLES);
  writeLock({ serverPid: server.pid, url });
  say(`VS Code ${VSCODE_VERSION} server listening on ${authorityOf(options.address, port)} (log: ${shown(s.serverLog)})`);
  console.log(`\nGradLens in VS Code, on examples/:\n\n    ${url}\n\nOpen it in a browser; Ctrl+C stops the server.\n`);
  if (options.open) openBrowser(url);

  const code = await server.exited;
  if (stopping) return new Promise(() => {}); // stop() exits
  throw new Error(`the VS Code server exited by itself (${code}); see ${shown(s.serverLog)}`);
}

/** Opens url in the desktop's browser when there is a desktop; silent when there is none. */
function openBrowser(url) {
  const opener = process.platform === 'darwin' ? 'open' : process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
  if (!opener || !onPath(opener)) return;
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    /* the URL is printed */
  }
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`npm start: ${error.message}\nRun \`npm start -- --help\` for the options.`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (!fs.existsSync(path.join(REPO_ROOT, 'node_modules', '.bin'))) throw new Error('node_modules/ is missing: run `npm ci` first');
  const code = options.mode === 'server' ? undefined : onPath('code');
  if (options.mode === 'desktop' && !code) throw new Error('--desktop: `code` is not on the PATH (use --server for the VS Code server in a browser)');

  if (!code) takeLock(); // before the build: a second start on the same state stops at once
  if (options.build) await build();
  else if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run without --no-build');
  if (code) return runDesktop(code);
  if (options.mode === 'auto') say('`code` is not on the PATH: using the VS Code server in a browser (--desktop/--server choose)');
  return runServer(options);
}

main().then(
  (exitCode) => {
    releaseLock();
    process.exit(exitCode);
  },
  async (error) => {
    if (stopping) return; // a signal's stop() is under way and exits
    stopping = true;
    console.error(`[start] ${error instanceof Error ? error.message : error}`);
    await server?.stop();
    releaseLock();
    process.exit(1);
  },
);
