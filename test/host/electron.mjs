// Runs the extension-host suite (out/test/host/suite, the same as `npm run test:host` phase 1) in a
// desktop VS Code 1.100 with @vscode/test-electron.
//
//   npm run test:electron [-- --grep REGEX]
//
// Which VS Code: $VSCODE_EXECUTABLE when set (a desktop `code` binary of 1.100.x), else a download
// already in .vscode-test/ (vscode-<platform>-1.100.3), else @vscode/test-electron tries to download
// it, which is impossible offline: then it stops with exit 1 and says to use `npm run test:host`
// (code-server, installed from the npm registry). On Linux without a display run it under `xvfb-run -a`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const VSCODE_VERSION = '1.100.3';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(REPO_ROOT, '.vscode-test');
const TESTS_PATH = path.join(REPO_ROOT, 'out', 'test', 'host', 'suite', 'index');
const SCRATCH = path.join(REPO_ROOT, 'test', 'artifacts', 'electron');
const OFFLINE_HINT =
  `Downloads of VS Code are impossible on this machine (offline: only the npm registry and Debian mirrors are reachable).\n` +
  `  Use \`npm run test:host\` instead (the same suite in VS Code ${VSCODE_VERSION} under code-server, installed from npm),\n` +
  `  or set VSCODE_EXECUTABLE to a desktop VS Code ${VSCODE_VERSION.replace(/\.\d+$/, '.x')} executable.`;

function fail(message) {
  console.error(`test:electron: ${message}`);
  process.exit(1);
}

/** The VS Code executable to run: $VSCODE_EXECUTABLE, a complete download in .vscode-test/, or a fresh download. */
async function resolveExecutable(electron) {
  const fromEnv = process.env.VSCODE_EXECUTABLE;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) fail(`VSCODE_EXECUTABLE=${fromEnv} does not exist`);
    console.log(`test:electron: VS Code from VSCODE_EXECUTABLE: ${fromEnv}`);
    return fromEnv;
  }
  // download() returns a complete cached copy without touching the network; otherwise it downloads.
  const cached = fs.existsSync(CACHE) && fs.readdirSync(CACHE).some((name) => name.startsWith('vscode-') && name.endsWith(`-${VSCODE_VERSION}`));
  console.log(cached ? `test:electron: VS Code ${VSCODE_VERSION} from ${path.relative(REPO_ROOT, CACHE)}/` : `test:electron: no VS Code ${VSCODE_VERSION} in ${path.relative(REPO_ROOT, CACHE)}/, trying to download it`);
  try {
    return await electron.download({ version: VSCODE_VERSION, cachePath: CACHE, timeout: 10_000 });
  } catch (error) {
    fail(`could not get VS Code ${VSCODE_VERSION}: ${error instanceof Error ? error.message : error}\n  ${OFFLINE_HINT}`);
  }
}

async function main() {
  const { values } = parseArgs({ options: { grep: { type: 'string' } } });
  if (!fs.existsSync(`${TESTS_PATH}.js`)) fail(`${path.relative(REPO_ROOT, TESTS_PATH)}.js is missing: run \`npm run build && npm run compile\` first`);
  let electron;
  try {
    electron = await import('@vscode/test-electron');
  } catch {
    fail('@vscode/test-electron is not installed: run `npm ci`');
  }
  const executable = await resolveExecutable(electron);

  fs.rmSync(SCRATCH, { recursive: true, force: true });
  fs.mkdirSync(SCRATCH, { recursive: true });
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-electron-workspace-'));
  fs.cpSync(path.join(REPO_ROOT, 'test', 'host', 'workspace'), workspace, { recursive: true });
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.warn('test:electron: no DISPLAY; desktop VS Code needs one on Linux (run under `xvfb-run -a`)');
  }
  const launchArgs = [
    workspace,
    '--disable-extensions', // other installed extensions; the one under development still loads
    '--disable-workspace-trust',
    '--skip-welcome',
    '--skip-release-notes',
    '--disable-gpu',
    `--user-data-dir=${path.join(SCRATCH, 'user-data')}`,
    `--extensions-dir=${path.join(SCRATCH, 'extensions')}`,
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) launchArgs.push('--no-sandbox'); // Electron refuses root otherwise
  try {
    const code = await electron.runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: TESTS_PATH,
      launchArgs,
      extensionTestsEnv: values.grep ? { GRADLENS_HOST_GREP: values.grep } : {},
    });
    console.log(`test:electron: ${code === 0 ? 'passed' : `failed (exit ${code})`}`);
    return code;
  } catch (error) {
    console.error(`test:electron: the suite failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => fail(error instanceof Error ? error.stack ?? error.message : String(error)),
);
