/**
 * What differs between Windows and POSIX for the runner: paths in stack frames and file URLs, the
 * PATH variable, Python's command names, ending a process with what it started. The platform is a
 * parameter (default: this one) so that the Windows branches are tested on any machine.
 * Node built-ins only: python/prestart.ts, evaluated first in the worker bundle, uses it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

export type Platform = NodeJS.Platform;

export function pathApi(platform: Platform = process.platform): nodePath.PlatformPath {
  return platform === 'win32' ? nodePath.win32 : nodePath.posix;
}

/** A path as a stack frame or a source map may give it (a file URL or a path) as a path of `platform`. */
export function framePath(text: string, platform: Platform = process.platform): string {
  return text.startsWith('file:') ? fileURLToPath(text, { windows: platform === 'win32' }) : text;
}

/** Whether two absolute paths name the same file: Windows paths compare without case (C:\ and c:\). */
export function samePath(a: string, b: string, platform: Platform = process.platform): boolean {
  return platform === 'win32' ? nodePath.win32.normalize(a).toLowerCase() === nodePath.win32.normalize(b).toLowerCase() : a === b;
}

/** The PATH variable's name in `env` (Windows spells it Path, and a copied environment is case-sensitive) and its directories. */
export function searchPath(env: NodeJS.ProcessEnv, platform: Platform = process.platform): { key: string; directories: string[] } {
  const key = platform === 'win32' ? (Object.keys(env).find((name) => name.toUpperCase() === 'PATH') ?? 'Path') : 'PATH';
  return { key, directories: (env[key] ?? '').split(pathApi(platform).delimiter).filter(Boolean) };
}

/**
 * The Python a user means by default: `python3` on POSIX; `python` on Windows, where the python.org
 * installer and conda provide python.exe and `python3` is at most the Microsoft Store's stub.
 */
export function defaultPythonCommand(platform: Platform = process.platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/** The interpreter's file name in a PATH directory or a virtual environment. */
export function pythonExecutable(platform: Platform = process.platform): string {
  return platform === 'win32' ? 'python.exe' : 'python3';
}

/**
 * Interpreters to try after the PATH's (by absolute path): the system's /usr/bin/python3 on POSIX; on
 * Windows the Python launcher's default Python 3, which the launcher names with `py -3`.
 */
export function systemPythonQueries(platform: Platform = process.platform): { command: string; args: string[] } | { path: string } {
  return platform === 'win32' ? { command: 'py', args: ['-3', '-c', 'import sys; print(sys.executable)'] } : { path: '/usr/bin/python3' };
}

/**
 * How to end `pid` and every process it started. POSIX: SIGKILL to the process (an interpreter it
 * started watches for its parent's end, python/gradlens_runner.py). Windows has no signals, and its
 * processes are not reparented, so a child never sees its parent end: taskkill ends the whole tree.
 */
export function treeKillCommand(pid: number, platform: Platform = process.platform): { command: string; args: string[] } | null {
  return platform === 'win32' ? { command: 'taskkill', args: ['/pid', String(pid), '/T', '/F'] } : null;
}

/** Ends `child` and what it started (see treeKillCommand); nothing when it has already exited. */
export function killTree(child: ChildProcess, platform: Platform = process.platform): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const tree = treeKillCommand(child.pid, platform);
  if (!tree) {
    child.kill('SIGKILL');
    return;
  }
  const killer = spawn(tree.command, tree.args, { stdio: 'ignore', windowsHide: true });
  // taskkill missing or refused: at least the process itself.
  killer.once('error', () => child.kill());
  killer.once('exit', (code) => {
    if (code !== 0) child.kill();
  });
}
