// Installs a real VS Code extension host for the integration tests, offline: code-server 4.100.3
// (= VS Code 1.100.3) from the npm registry with its native modules rebuilt locally, plus Debian's
// chromium (driven by playwright-core) and ripgrep. Recipe and pitfalls: shared/docs/vscode-host-offline.md.
//
//   node test/host/install-host.mjs           install if needed (a second run is instant)
//   import { installHost } from './install-host.mjs'; const host = await installHost();
//
// The cache is .vscode-test/code-server-4.100.3/ (git-ignored). It is built in a temporary sibling
// directory and renamed into place with a marker file only when every step succeeded, so an
// interrupted install never leaves a half-installed cache behind.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const VSCODE_VERSION = '1.100.3';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE_ROOT = path.join(REPO_ROOT, '.vscode-test');
export const HOST_DIR = path.join(CACHE_ROOT, `code-server-${CODE_SERVER_VERSION}`);
export const CHROMIUM = '/usr/bin/chromium';
const MARKER = '.gradlens-host-installed.json';
const APT_PACKAGES = ['libkrb5-dev', 'pkg-config', 'ripgrep', 'chromium'];
// Native modules of VS Code's server that must be built for this Node (no prebuilt downloads offline).
const NATIVE_MODULES = ['kerberos', 'node-pty', '@vscode/spdlog', 'native-watchdog', '@parcel/watcher', '@vscode/deviceid'];

/** Paths of an installed host. */
function hostPaths(dir = HOST_DIR) {
  const codeServer = path.join(dir, 'node_modules', 'code-server');
  return {
    dir,
    codeServer,
    entry: path.join(codeServer, 'out', 'node', 'entry.js'),
    vscode: path.join(codeServer, 'lib', 'vscode'),
    chromium: CHROMIUM,
  };
}

/** True when the host is fully installed (marker present) with native modules built for this Node's ABI. */
export function isHostInstalled(dir = HOST_DIR) {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
    return marker.abi === process.versions.modules && fs.existsSync(hostPaths(dir).entry);
  } catch {
    return false;
  }
}

class StepError extends Error {
  constructor(step, message, logFile) {
    super(`host install failed at step ${step}: ${message}${logFile ? `\n  full log: ${path.relative(process.cwd(), logFile) || logFile}` : ''}`);
    this.step = step;
  }
}

function isDebInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** Where node-gyp finds Node's headers without downloading them: this Node's prefix, if it ships include/node. */
function nodeHeadersDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

/** Removes temporary install directories left by installs that were killed. */
function removeStalePartials(dir) {
  const prefix = `${path.basename(dir)}.partial-`;
  for (const name of fs.readdirSync(path.dirname(dir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive) fs.rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

/**
 * Installs the host if needed and returns its paths.
 * @param {{ log?: (line: string) => void, dir?: string }} [options]
 * @returns {Promise<{ dir: string, codeServer: string, entry: string, vscode: string, chromium: string, installed: boolean, seconds: number }>}
 */
export async function installHost(options = {}) {
  const log = options.log ?? ((line) => console.log(`[host-install] ${line}`));
  const dir = options.dir ?? HOST_DIR;
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const missingDebs = APT_PACKAGES.filter((name) => !isDebInstalled(name));
  if (isHostInstalled(dir) && missingDebs.length === 0) {
    return { ...hostPaths(dir), installed: false, seconds: (Date.now() - started) / 1000 };
  }

  fs.mkdirSync(path.dirname(dir), { recursive: true });
  removeStalePartials(dir);
  const temp = `${dir}.partial-${process.pid}`;
  const logFile = `${dir}.install.log`;
  fs.writeFileSync(logFile, `host install ${new Date().toISOString()}\n`);
  const steps = [];
  const step = (title, fn) => steps.push({ title, fn });

  /** Runs a command, its output to the log file, with a heartbeat line every 20 s. */
  const run = (command, args, cwd, env = {}) =>
    new Promise((resolve, reject) => {
      fs.appendFileSync(logFile, `\n$ (cd ${cwd} && ${command} ${args.join(' ')})\n`);
      const out = fs.openSync(logFile, 'a');
      const child = spawn(command, args, {
        cwd,
        stdio: ['ignore', out, out],
        env: { ...process.env, ...npmEnv, ...env },
      });
      fs.closeSync(out);
      const heartbeat = setInterval(() => log(`  ... still running ${command} ${args[0] ?? ''} (elapsed ${elapsed()})`), 20000);
      child.on('error', (error) => {
        clearInterval(heartbeat);
        reject(new Error(`${command}: ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        clearInterval(heartbeat);
        if (code === 0) resolve();
        else reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${signal ?? code}`));
      });
    });

  const headers = nodeHeadersDir();
  const npmEnv = {
    npm_config_yes: 'true', // node-pty's install script runs `npx node-gyp`
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    JOBS: 'max', // node-gyp builds in parallel
    ...(headers ? { npm_config_nodedir: headers } : {}),
  };

  if (missingDebs.length > 0) {
    step(`Debian packages ${missingDebs.join(' ')} (apt-get)`, async () => {
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new Error(`missing Debian packages ${missingDebs.join(' ')} and not root: run \`sudo apt-get install -y ${missingDebs.join(' ')}\``);
      }
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      await run('apt-get', ['update', '-qq'], REPO_ROOT, env);
      await run('apt-get', ['install', '-y', '-qq', ...missingDebs], REPO_ROOT, env);
      const still = missingDebs.filter((name) => !isDebInstalled(name));
      if (still.length > 0) throw new Error(`apt-get did not install ${still.join(' ')}`);
    });
  }
  if (!isHostInstalled(dir)) {
    const paths = hostPaths(temp);
    step(`code-server@${CODE_SERVER_VERSION} from npm (scripts off: its postinstall downloads)`, async () => {
      if (!headers) log(`  warning: ${path.dirname(path.dirname(process.execPath))}/include/node/node.h not found; node-gyp may try to download headers`);
      fs.rmSync(temp, { recursive: true, force: true });
      fs.mkdirSync(temp, { recursive: true });
      fs.writeFileSync(path.join(temp, 'package.json'), JSON.stringify({ name: 'gradlens-test-host', private: true, version: '0.0.0' }, null, 2));
      await run('npm', ['install', '--no-save', '--ignore-scripts', `code-server@${CODE_SERVER_VERSION}`], temp);
    });
    step('VS Code server dependencies (lib/vscode, production only)', async () => {
      await run('npm', ['install', '--omit=dev', '--ignore-scripts'], paths.vscode);
      const rgDir = path.join(paths.vscode, 'node_modules', '@vscode', 'ripgrep', 'bin');
      fs.mkdirSync(rgDir, { recursive: true });
      fs.rmSync(path.join(rgDir, 'rg'), { force: true });
      fs.symlinkSync('/usr/bin/rg', path.join(rgDir, 'rg')); // its postinstall would download rg
      fs.rmSync(path.join(paths.vscode, 'node_modules.asar'), { force: true });
      fs.symlinkSync('node_modules', path.join(paths.vscode, 'node_modules.asar'));
    });
    step(`native modules built for Node ${process.version} (${NATIVE_MODULES.join(', ')})`, async () => {
      await run('npm', ['rebuild', ...NATIVE_MODULES], paths.vscode);
    });
    step('built-in extensions dependencies', async () => {
      await run('npm', ['install', '--omit=dev', '--ignore-scripts'], path.join(paths.vscode, 'extensions'));
    });
    step('argon2 (required by the server at startup)', async () => {
      await run('npm', ['rebuild', 'argon2'], temp);
    });
    step('check that the native modules load, then move into place', async () => {
      const probe = [...NATIVE_MODULES, 'argon2'].map((name) => `require(${JSON.stringify(name)});`).join(' ');
      await run(process.execPath, ['-e', probe], paths.vscode, { NODE_PATH: path.join(temp, 'node_modules') });
      fs.writeFileSync(path.join(temp, MARKER), JSON.stringify({ codeServer: CODE_SERVER_VERSION, node: process.version, abi: process.versions.modules, installed: new Date().toISOString() }, null, 2));
      fs.rmSync(dir, { recursive: true, force: true }); // a cache without marker is incomplete
      try {
        fs.renameSync(temp, dir);
      } catch (error) {
        if (!isHostInstalled(dir)) throw error;
        fs.rmSync(temp, { recursive: true, force: true }); // another install finished first
      }
    });
  }

  if (fs.existsSync(dir) && !isHostInstalled(dir)) log(`${path.relative(process.cwd(), dir) || dir} is incomplete or built for another Node ABI: reinstalling`);
  log(`installing the VS Code ${VSCODE_VERSION} test host into ${path.relative(process.cwd(), dir) || dir} (log: ${path.relative(process.cwd(), logFile)})`);
  for (const [index, { title, fn }] of steps.entries()) {
    log(`step ${index + 1}/${steps.length}: ${title} (elapsed ${elapsed()})`);
    try {
      await fn();
    } catch (error) {
      fs.rmSync(temp, { recursive: true, force: true });
      const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
      log(`step ${index + 1}/${steps.length} FAILED: ${title}\n--- last lines of the log ---\n${tail}\n---`);
      throw new StepError(`${index + 1}/${steps.length} (${title})`, error instanceof Error ? error.message : String(error), logFile);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  log(`done in ${seconds.toFixed(1)} s (${path.relative(process.cwd(), dir)})`);
  return { ...hostPaths(dir), installed: true, seconds };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  installHost().then(
    (host) => {
      if (!host.installed) console.log(`[host-install] already installed: ${path.relative(process.cwd(), host.dir)} (checked in ${host.seconds.toFixed(2)} s)`);
    },
    (error) => {
      console.error(`[host-install] ${error instanceof Error ? error.message : error}`);
      process.exit(1);
    },
  );
}
