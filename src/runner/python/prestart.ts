/**
 * The interpreter of a Python problem file, started as the runner process's
 * first act (the supervisor names it in the runner's arguments), so that
 * Python and NumPy start while the rest of the runner loads instead of after.
 * Kept free of dependencies: the worker bundle evaluates it before anything else.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Platform, defaultPythonCommand, pathApi, pythonExecutable, searchPath, systemPythonQueries } from '../platform';

/** A flag no user passes: the CLI and the extension host bundle this module too, and must never act on it. */
const FLAG = '--gradlens-runner-python';

export function runnerScript(): string {
  // dist/worker.js, or out/src/runner/python/*.js in tests.
  const fromDist = path.resolve(__dirname, '..', 'python', 'gradlens_runner.py');
  return fs.existsSync(fromDist) ? fromDist : path.resolve(__dirname, '..', '..', '..', '..', 'python', 'gradlens_runner.py');
}

/** The interpreter of `file`: `--python PATH` (or the extension's choice), else $GRADLENS_PYTHON, else the default. */
export function resolveInterpreter(option: string | null | undefined, file: string, env: NodeJS.ProcessEnv = process.env): string {
  return chosenInterpreter(option, env) ?? defaultInterpreter(file, env);
}

/** The interpreter the user chose (`--python`, the extension's setting, $GRADLENS_PYTHON), or null. */
export function chosenInterpreter(option: string | null | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  return option || env.GRADLENS_PYTHON || null;
}

/**
 * Where `python` runs from, for messages: a path as given (made absolute), a bare name where spawning
 * it finds it, the first executable of that name on the PATH (as given when there is none).
 */
export function interpreterPath(python: string, env: NodeJS.ProcessEnv = process.env): string {
  if (python.includes('/') || python.includes(path.sep)) return path.resolve(python);
  const names = process.platform === 'win32' && path.extname(python) === '' ? [`${python}.exe`, python] : [python];
  for (const directory of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.resolve(directory, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // Not here: the next folder of the PATH.
      }
    }
  }
  return python;
}

/** The interpreter when the user chose none and nothing better is known: python3 (python on Windows) from the PATH. */
export const DEFAULT_PYTHON = defaultPythonCommand();

/** Imports of torch at the start of a line: `import torch`, `from torch.autograd import Function`. */
const IMPORTS_TORCH = /^\s*(?:import|from)\s+torch\b/m;
/** The interpreter chosen for torch files, by PATH. */
const chosen = new Map<string, string>();

/**
 * The interpreter for `file` when the user chose none: DEFAULT_PYTHON, unless the file imports
 * torch and that interpreter lacks it (a pyenv or venv python3 before the system's, say) while another
 * on the PATH, or the system's (see laterInterpreters), has torch and NumPy. Asked once per process; files that do
 * not import torch cost nothing here (a python3 without NumPy is replaced when it says so).
 */
export function defaultInterpreter(file: string, env: NodeJS.ProcessEnv = process.env): string {
  let source = '';
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    // Unreadable: the load reports it.
  }
  if (!IMPORTS_TORCH.test(source)) return DEFAULT_PYTHON;
  const key = env.PATH ?? '';
  let found = chosen.get(key);
  if (found === undefined) {
    found = hasModules(DEFAULT_PYTHON, ['numpy', 'torch'], env) ? DEFAULT_PYTHON : (otherInterpreterWith(['numpy', 'torch'], env) ?? DEFAULT_PYTHON);
    chosen.set(key, found);
  }
  return found;
}

/** Another interpreter than the PATH's first (a later one on the PATH, else the system's) that has `modules`. */
export function otherInterpreterWith(modules: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  return laterInterpreters(env).find((candidate) => hasModules(candidate, modules, env)) ?? null;
}

function realPath(candidate: string): string | null {
  try {
    return fs.realpathSync(candidate);
  } catch {
    return null;
  }
}

/** What a command prints, trimmed; null when it fails or is missing. */
function output(command: string, args: string[], env: NodeJS.ProcessEnv): string | null {
  const run = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, env, windowsHide: true });
  return run.status === 0 ? run.stdout.trim() || null : null;
}

/** How laterInterpreters sees the machine; a parameter for tests. */
export interface InterpreterHost {
  platform: Platform;
  /** The file's real path, or null when it does not exist. */
  real: (file: string) => string | null;
  /** What a command prints, or null. */
  output: (command: string, args: string[], env: NodeJS.ProcessEnv) => string | null;
}

const thisHost: InterpreterHost = { platform: process.platform, real: realPath, output };

/**
 * Every interpreter on the PATH after the first, in PATH order (python3; python.exe on Windows),
 * then the system's (/usr/bin/python3; on Windows the one `py -3` starts); each interpreter once.
 */
export function laterInterpreters(env: NodeJS.ProcessEnv, host: InterpreterHost = thisHost): string[] {
  const { join } = pathApi(host.platform);
  const name = pythonExecutable(host.platform);
  const onPath = searchPath(env, host.platform).directories.map((directory) => join(directory, name)).filter((candidate) => host.real(candidate) !== null);
  const query = systemPythonQueries(host.platform);
  const system = 'path' in query ? query.path : host.output(query.command, query.args, env);
  // The PATH's first is the one already asked.
  const seen = new Set(onPath.slice(0, 1).map(host.real));
  return [...onPath.slice(1), ...(system ? [system] : [])].filter((candidate) => {
    const target = host.real(candidate);
    if (target === null || seen.has(target)) return false;
    seen.add(target);
    return true;
  });
}

function hasModules(python: string, modules: string[], env: NodeJS.ProcessEnv): boolean {
  // find_spec locates a module without importing it (torch takes seconds to import).
  const probe = 'import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 3)';
  return spawnSync(python, ['-c', probe, ...modules], { stdio: 'ignore', timeout: 10_000, env }).status === 0;
}

/** An interpreter process and how it started and ended, caught from its first moment (it may end before anyone asks). */
export interface Interpreter {
  child: ChildProcess;
  spawned: Promise<void>;
  /** Its start failed (`error`), or it ended and its output streams closed (`code`, `signal`). */
  ended: Promise<{ error: NodeJS.ErrnoException } | { code: number | null; signal: NodeJS.Signals | null }>;
}

export function startInterpreter(python: string): Interpreter {
  const child = spawn(python, ['-u', runnerScript()], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  return {
    child,
    spawned: new Promise((resolve) => child.once('spawn', () => resolve())),
    ended: new Promise((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    }),
  };
}

/** The runner process's arguments that start `python` at once. */
export function prestartArguments(python: string): string[] {
  return [FLAG, python];
}

/**
 * The interpreter started with the process, kept on a global: dist/worker.js starts it and
 * dist/worker-main.js, a bundle of its own with its own copy of this module, takes it.
 */
const SLOT = Symbol.for('gradlens.runner.prestartedInterpreter');
const store = globalThis as { [SLOT]?: { python: string; interpreter: Interpreter } | null };

if (!(SLOT in store)) {
  store[SLOT] = null;
  const at = process.argv.indexOf(FLAG);
  if (at >= 0 && process.argv[at + 1]) {
    const python = process.argv[at + 1];
    store[SLOT] = { python, interpreter: startInterpreter(python) };
    // Not taken (the request needed no interpreter after all): it must not outlive this process.
    process.once('exit', () => store[SLOT]?.interpreter.child.kill('SIGKILL'));
  }
}

/** The interpreter started for `python` with the runner process, once; else a new one. */
export function interpreter(python: string): Interpreter {
  const prestarted = store[SLOT];
  if (prestarted?.python === python) {
    store[SLOT] = null;
    return prestarted.interpreter;
  }
  return startInterpreter(python);
}
