/**
 * The interpreter of a Python problem file, started as the runner process's
 * first act (the supervisor names it in the runner's arguments), so that
 * Python and NumPy start while the rest of the runner loads instead of after.
 * Kept free of dependencies: the worker bundle evaluates it before anything else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A flag no user passes: the CLI and the extension host bundle this module too, and must never act on it. */
const FLAG = '--gradlens-runner-python';

export function runnerScript(): string {
  // dist/worker.js, or out/src/runner/python/*.js in tests.
  const fromDist = path.resolve(__dirname, '..', 'python', 'gradlens_runner.py');
  return fs.existsSync(fromDist) ? fromDist : path.resolve(__dirname, '..', '..', '..', '..', 'python', 'gradlens_runner.py');
}

/** `--python PATH` (or the extension's choice), else $GRADLENS_PYTHON, else python3 on the PATH. */
export function resolveInterpreter(option: string | null | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.GRADLENS_PYTHON || 'python3';
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
