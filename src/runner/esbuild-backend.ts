/**
 * Which esbuild compiles problem files. A platform package of the extension (and an npm install)
 * ships esbuild's native binary for its platform; the universal package, and platforms esbuild has
 * no binary for, fall back to esbuild-wasm, the same compiler as WebAssembly (slower to start, the
 * same output). The platform is a parameter so that every branch can be tested on one machine.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { pathApi, searchPath } from './platform';

/** What the choice depends on: the machine, the process's own executable, its environment. */
export interface HostPlatform {
  platform: NodeJS.Platform;
  arch: string;
  execPath: string;
  env: NodeJS.ProcessEnv;
  /** Resolves a module request from the file `from`, or null when it is not installed. */
  resolve: (request: string, from: string) => string | null;
}

export function currentHost(): HostPlatform {
  return { platform: process.platform, arch: process.arch, execPath: process.execPath, env: process.env, resolve: resolveFrom };
}

function resolveFrom(request: string, from: string): string | null {
  try {
    return createRequire(from).resolve(request);
  } catch {
    return null;
  }
}

/** The npm package and file of esbuild's native binary for a platform (esbuild's names: @esbuild/<platform>-<arch>). */
export function nativeBinaryRequest(platform: NodeJS.Platform, arch: string): string {
  return platform === 'win32' ? `@esbuild/win32-${arch}/esbuild.exe` : `@esbuild/${platform}-${arch}/bin/esbuild`;
}

export type EsbuildChoice =
  | { kind: 'native'; module: string; binary: string }
  | { kind: 'wasm'; module: string }
  | { kind: 'missing'; message: string };

/**
 * esbuild's JS API with its binary when both are installed (looked up from esbuild's own lib/, as
 * esbuild does; ESBUILD_BINARY_PATH is honoured as esbuild honours it), else esbuild-wasm.
 * `from` is the file resolution starts at (this module's bundle in dist/).
 */
export function chooseEsbuild(host: HostPlatform, from: string): EsbuildChoice {
  const request = nativeBinaryRequest(host.platform, host.arch);
  const api = host.resolve('esbuild', from);
  if (api) {
    const explicit = host.env.ESBUILD_BINARY_PATH;
    const binary = explicit && fs.existsSync(explicit) ? explicit : host.resolve(request, api);
    if (binary) return { kind: 'native', module: api, binary };
  }
  const wasm = host.resolve('esbuild-wasm', from);
  if (wasm) return { kind: 'wasm', module: wasm };
  return {
    kind: 'missing',
    message: `GradLens cannot compile TypeScript/JavaScript problem files on ${host.platform}-${host.arch}: this package has neither esbuild's binary for it (${request.split('/').slice(0, 2).join('/')}) nor esbuild-wasm. Install the GradLens package for this platform.`,
  };
}

/**
 * esbuild-wasm's Node API runs its WebAssembly in a child process started as `node` from the PATH
 * (lib/main.js), which a VS Code user may not have: the extension host's runner is VS Code's own
 * executable in Node mode. The PATH and environment for that child: the directory of this process's
 * executable when it is a Node binary, else `linkDir`, where `node` links to it (ELECTRON_RUN_AS_NODE
 * makes Electron's executable behave as Node).
 */
export function wasmServiceEnv(host: HostPlatform, linkDir: string): { env: NodeJS.ProcessEnv; link: { target: string; path: string } | null } {
  const path = pathApi(host.platform);
  const executable = host.platform === 'win32' ? 'node.exe' : 'node';
  const isNode = path.basename(host.execPath).toLowerCase() === executable;
  const { key, directories } = searchPath(host.env, host.platform);
  const env: NodeJS.ProcessEnv = { ...host.env, [key]: [isNode ? path.dirname(host.execPath) : linkDir, ...directories].join(path.delimiter) };
  if (!isNode) env.ELECTRON_RUN_AS_NODE = '1';
  return { env, link: isNode ? null : { target: host.execPath, path: path.join(linkDir, executable) } };
}

/** Creates `link` (a symbolic link; a hard link on Windows, where symbolic ones need a privilege). */
function ensureLink(link: { target: string; path: string }): void {
  try {
    if (fs.realpathSync(link.path) === fs.realpathSync(link.target)) return;
    fs.rmSync(link.path, { force: true });
  } catch {
    // Absent (or dangling): create it.
  }
  fs.mkdirSync(nodePath.dirname(link.path), { recursive: true });
  if (process.platform === 'win32') fs.linkSync(link.target, link.path);
  else fs.symlinkSync(link.target, link.path);
}

type Esbuild = typeof import('esbuild');
let loaded: Promise<Esbuild> | undefined;

/** esbuild for this process, loaded once: the native one, else esbuild-wasm with its service started. */
export function loadEsbuild(host: HostPlatform = currentHost()): Promise<Esbuild> {
  loaded ??= (async () => {
    const choice = chooseEsbuild(host, __filename);
    if (choice.kind === 'missing') throw new Error(choice.message);
    const esbuild = createRequire(__filename)(choice.module) as Esbuild;
    if (choice.kind === 'wasm') {
      const linkDir = nodePath.join(os.tmpdir(), `gradlens-node-${createHash('sha256').update(host.execPath).digest('hex').slice(0, 12)}`);
      const { env, link } = wasmServiceEnv(host, linkDir);
      if (link) ensureLink(link);
      // esbuild-wasm starts its service synchronously in initialize(), with this process's environment.
      const saved = process.env;
      process.env = env;
      try {
        await esbuild.initialize({});
      } finally {
        process.env = saved;
      }
    }
    return esbuild;
  })();
  return loaded;
}
