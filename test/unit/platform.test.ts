// Windows and other platforms, tested on this machine through the platform parameter: which esbuild
// compiles problem files, the environment of esbuild-wasm's service, stack frames with Windows paths
// and file URLs, the PATH variable, Python's names and ending a process tree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HostPlatform, chooseEsbuild, nativeBinaryRequest, wasmServiceEnv } from '../../src/runner/esbuild-backend';
import { defaultPythonCommand, framePath, searchPath, treeKillCommand } from '../../src/runner/platform';
import { type InterpreterHost, laterInterpreters } from '../../src/runner/python/prestart';
import { userFrame } from '../../src/runner/stack';

/** A host where exactly `installed` resolves: request → resolved file (from anywhere). */
function host(platform: NodeJS.Platform, arch: string, installed: Record<string, string>, extra: Partial<HostPlatform> = {}): HostPlatform & { asked: [string, string][] } {
  const asked: [string, string][] = [];
  return {
    platform,
    arch,
    execPath: platform === 'win32' ? 'C:\\Program Files\\nodejs\\node.exe' : '/usr/bin/node',
    env: {},
    resolve: (request, from) => {
      asked.push([request, from]);
      return installed[request] ?? null;
    },
    asked,
    ...extra,
  };
}

describe('esbuild for the platform', () => {
  const api = '/ext/node_modules/esbuild/lib/main.js';

  it('names the binary as esbuild does: esbuild.exe on Windows, bin/esbuild elsewhere', () => {
    assert.equal(nativeBinaryRequest('win32', 'x64'), '@esbuild/win32-x64/esbuild.exe');
    assert.equal(nativeBinaryRequest('win32', 'arm64'), '@esbuild/win32-arm64/esbuild.exe');
    assert.equal(nativeBinaryRequest('darwin', 'arm64'), '@esbuild/darwin-arm64/bin/esbuild');
    assert.equal(nativeBinaryRequest('linux', 'arm'), '@esbuild/linux-arm/bin/esbuild');
  });

  it('uses the native binary when the package ships it, looked up from esbuild\'s own lib', () => {
    const windows = host('win32', 'x64', { esbuild: api, '@esbuild/win32-x64/esbuild.exe': 'C:\\ext\\node_modules\\@esbuild\\win32-x64\\esbuild.exe' });
    assert.deepEqual(chooseEsbuild(windows, '/ext/dist/worker-main.js'), { kind: 'native', module: api, binary: 'C:\\ext\\node_modules\\@esbuild\\win32-x64\\esbuild.exe' });
    assert.deepEqual(windows.asked[1], ['@esbuild/win32-x64/esbuild.exe', api]);
  });

  it('falls back to esbuild-wasm when the binary is missing (the universal package, another platform\'s package)', () => {
    // A darwin-arm64 machine with the linux-x64 package's binary: not its own.
    const mac = host('darwin', 'arm64', { esbuild: api, '@esbuild/linux-x64/bin/esbuild': '/x', 'esbuild-wasm': '/ext/node_modules/esbuild-wasm/lib/main.js' });
    assert.deepEqual(chooseEsbuild(mac, '/ext/dist/worker-main.js'), { kind: 'wasm', module: '/ext/node_modules/esbuild-wasm/lib/main.js' });
    const universal = host('linux', 'riscv64', { 'esbuild-wasm': '/w.js' });
    assert.equal(chooseEsbuild(universal, '/ext/dist/worker-main.js').kind, 'wasm');
  });

  it('honours ESBUILD_BINARY_PATH as esbuild does, when the file exists', () => {
    const pinned = host('linux', 'x64', { esbuild: api }, { env: { ESBUILD_BINARY_PATH: process.execPath } });
    assert.deepEqual(chooseEsbuild(pinned, '/d.js'), { kind: 'native', module: api, binary: process.execPath });
    const missing = host('linux', 'x64', { esbuild: api, 'esbuild-wasm': '/w.js' }, { env: { ESBUILD_BINARY_PATH: '/nonexistent/esbuild' } });
    assert.equal(chooseEsbuild(missing, '/d.js').kind, 'wasm');
  });

  it('says what is missing, for which platform, when neither is there', () => {
    const choice = chooseEsbuild(host('freebsd', 'x64', {}), '/d.js');
    assert.equal(choice.kind, 'missing');
    assert.match(choice.kind === 'missing' ? choice.message : '', /freebsd-x64.*@esbuild\/freebsd-x64.*esbuild-wasm/);
  });

  it('gives esbuild-wasm\'s service a `node`: the directory of a Node executable, on Windows with ; and Path', () => {
    const windows = host('win32', 'x64', {}, { env: { Path: 'C:\\Windows\\system32;C:\\tools', ComSpec: 'cmd.exe' } });
    const { env, link } = wasmServiceEnv(windows, 'C:\\Temp\\gradlens-node');
    assert.equal(link, null);
    assert.equal(env.Path, 'C:\\Program Files\\nodejs;C:\\Windows\\system32;C:\\tools');
    assert.equal(env.PATH, undefined, 'one PATH variable, as Windows spells it');
    assert.equal(env.ELECTRON_RUN_AS_NODE, undefined);
    const linux = wasmServiceEnv(host('linux', 'x64', {}, { env: { PATH: '/usr/local/bin:/bin' } }), '/tmp/gradlens-node');
    assert.equal(linux.env.PATH, '/usr/bin:/usr/local/bin:/bin');
    assert.equal(wasmServiceEnv(host('linux', 'x64', {}, { env: {} }), '/tmp/l').env.PATH, '/usr/bin');
  });

  it('links `node` to VS Code\'s own executable (Electron as Node) when the runner is not a Node binary', () => {
    const code = host('win32', 'x64', {}, { execPath: 'C:\\Users\\me\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe', env: { Path: 'C:\\Windows' } });
    const windows = wasmServiceEnv(code, 'C:\\Temp\\gradlens-node-1');
    assert.deepEqual(windows.link, { target: code.execPath, path: 'C:\\Temp\\gradlens-node-1\\node.exe' });
    assert.equal(windows.env.Path, 'C:\\Temp\\gradlens-node-1;C:\\Windows');
    assert.equal(windows.env.ELECTRON_RUN_AS_NODE, '1');
    const mac = wasmServiceEnv(host('darwin', 'arm64', {}, { execPath: '/Applications/Visual Studio Code.app/Contents/Frameworks/Code Helper (Plugin).app/Contents/MacOS/Code Helper (Plugin)', env: { PATH: '/usr/bin' } }), '/var/tmp/l');
    assert.deepEqual(mac.link?.path, '/var/tmp/l/node');
    assert.equal(mac.env.PATH, '/var/tmp/l:/usr/bin');
  });
});

describe('Windows paths in stack frames', () => {
  const failing = (stack: string) => Object.assign(new Error('x'), { stack: `Error: x\n${stack}` });

  it('finds the user\'s frame with a drive-letter path, whatever the drive letter\'s case', () => {
    const error = failing('    at Object.grad (C:\\Users\\me\\problems\\mlp.grad.ts:14:11)\n    at run (C:\\ext\\dist\\worker-main.js:1:2)');
    assert.deepEqual(userFrame(error, ['c:\\Users\\me\\problems\\mlp.grad.ts'], 'win32'), { file: 'c:\\Users\\me\\problems\\mlp.grad.ts', line: 14, column: 11 });
  });

  it('reads file URLs as paths of the platform (drive letters, %20)', () => {
    const error = failing('    at f (file:///C:/Users/me/My%20Problems/a.grad.mts:3:4)');
    assert.deepEqual(userFrame(error, ['C:\\Users\\me\\My Problems\\a.grad.mts'], 'win32'), { file: 'C:\\Users\\me\\My Problems\\a.grad.mts', line: 3, column: 4 });
    assert.equal(framePath('file:///home/me/My%20Problems/a.grad.mts', 'linux'), '/home/me/My Problems/a.grad.mts');
    assert.equal(framePath('/home/me/a.ts', 'linux'), '/home/me/a.ts');
  });

  it('skips frames outside the user\'s files, and POSIX paths keep their case', () => {
    const error = failing('    at f (/home/Me/a.ts:1:2)\n    at g (/home/me/a.ts:5:6)');
    assert.deepEqual(userFrame(error, ['/home/me/a.ts'], 'linux'), { file: '/home/me/a.ts', line: 5, column: 6 });
  });
});

describe('PATH and Python on Windows', () => {
  it('splits PATH at ; on Windows (drive letters have colons) and at : elsewhere', () => {
    assert.deepEqual(searchPath({ Path: 'C:\\Python312\\;C:\\Windows;;D:\\tools' }, 'win32'), { key: 'Path', directories: ['C:\\Python312\\', 'C:\\Windows', 'D:\\tools'] });
    assert.deepEqual(searchPath({ PATH: '/usr/local/bin:/usr/bin' }, 'linux'), { key: 'PATH', directories: ['/usr/local/bin', '/usr/bin'] });
  });

  it('defaults to python on Windows (python3 there is at most the Store\'s stub), python3 elsewhere', () => {
    assert.equal(defaultPythonCommand('win32'), 'python');
    assert.equal(defaultPythonCommand('linux'), 'python3');
    assert.equal(defaultPythonCommand('darwin'), 'python3');
  });

  /** A machine with exactly these files (their real paths: themselves, or what links name). */
  function machine(platform: NodeJS.Platform, files: Record<string, string>, printed: Record<string, string> = {}): InterpreterHost & { ran: string[] } {
    const ran: string[] = [];
    return {
      platform,
      real: (file) => files[file] ?? null,
      output: (command, args) => {
        ran.push([command, ...args].join(' '));
        return printed[command] ?? null;
      },
      ran,
    };
  }

  it('looks for python.exe in each Path directory (a venv\'s Scripts too), then the py launcher\'s Python 3', () => {
    const files = {
      'C:\\proj\\.venv\\Scripts\\python.exe': 'C:\\proj\\.venv\\Scripts\\python.exe',
      'C:\\Python312\\python.exe': 'C:\\Python312\\python.exe',
      'C:\\Python311\\python.exe': 'C:\\Python311\\python.exe',
    };
    const windows = machine('win32', files, { py: 'C:\\Python311\\python.exe' });
    assert.deepEqual(laterInterpreters({ Path: 'C:\\proj\\.venv\\Scripts;C:\\Windows;C:\\Python312' }, windows), ['C:\\Python312\\python.exe', 'C:\\Python311\\python.exe']);
    assert.deepEqual(windows.ran, ['py -3 -c import sys; print(sys.executable)']);
    // The launcher's Python is the PATH's first: asked already, not again.
    const same = machine('win32', files, { py: 'C:\\proj\\.venv\\Scripts\\python.exe' });
    assert.deepEqual(laterInterpreters({ Path: 'C:\\proj\\.venv\\Scripts' }, same), []);
  });

  it('on POSIX: python3 in each PATH directory, then /usr/bin/python3, each real interpreter once', () => {
    const linux = machine('linux', {
      '/home/me/.venv/bin/python3': '/usr/bin/python3.11',
      '/opt/py/bin/python3': '/opt/py/bin/python3.12',
      '/usr/bin/python3': '/usr/bin/python3.11',
    });
    assert.deepEqual(laterInterpreters({ PATH: '/home/me/.venv/bin:/opt/py/bin' }, linux), ['/opt/py/bin/python3']);
    assert.deepEqual(linux.ran, [], 'no launcher on POSIX');
  });
});

describe('ending a process tree', () => {
  it('uses taskkill /T /F on Windows (no signals, no reparenting), a signal elsewhere', () => {
    assert.deepEqual(treeKillCommand(4242, 'win32'), { command: 'taskkill', args: ['/pid', '4242', '/T', '/F'] });
    assert.equal(treeKillCommand(4242, 'linux'), null);
    assert.equal(treeKillCommand(4242, 'darwin'), null);
  });
});
