/**
 * The sandboxed runner process (dist/worker.js). It bundles and loads one
 * problem file and runs every check loop here, so user code never runs in
 * the caller's process; the caller enforces time and memory limits by
 * killing this process.
 */
import Module from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateExport } from '../core/exports';
import { checkProblem, describeFailure, errorResult } from '../core/gradcheck';
import { discoverProblems } from '../core/problem';
import type { CheckRequest, DiscoveredProblem, WorkerToParent } from '../protocol';
import { LoadError, bundleProblemFile } from './bundle';
import { formatLocation, userFrame } from './stack';
import { Watchdog } from './watchdog';

const API_MODULE = path.join(__dirname, 'api.js');
/** The user's files in the loaded bundle; stack frames there are what errors point at. */
let userSources: string[] = [];
const PROGRESS_INTERVAL_MS = 100;
/** The watchdog's name for the module's own top-level code. */
const LOADING = '';

function send(message: WorkerToParent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** Thrown instead of exiting, so a `process.exit` in user code fails one problem with its location. */
class ExitCalled extends Error {}

function guardExit(): void {
  process.exit = ((code?: number | string | null) => {
    throw new ExitCalled(`process.exit(${code ?? ''}) called in user code`);
  }) as typeof process.exit;
}

function locate(error: unknown): string {
  const frame = userFrame(error, userSources);
  return frame ? ` (at ${formatLocation(frame)})` : '';
}

function describeLoadError(error: unknown, file: string): string {
  const relative = formatLocation({ file, line: 0, column: 0 }).replace(/:0:0$/, '');
  if (error instanceof LoadError) return error.message;
  const code = (error as { code?: string }).code;
  const frame = userFrame(error, userSources);
  const where = frame ? formatLocation(frame) : relative;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec((error as Error).message)?.[1] ?? 'a module';
    return `${where}: cannot find module '${missing}' (imported by ${relative}; is it installed in the workspace?)`;
  }
  return `${where}: loading ${relative} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

function loadModule(code: string, file: string): unknown {
  const module = new Module(file);
  module.filename = file;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  (module as unknown as { _compile(code: string, file: string): void })._compile(code, file);
  return module.exports;
}

async function check(request: CheckRequest): Promise<void> {
  const file = path.resolve(request.file);
  let moduleExports: unknown;
  try {
    if (!fs.existsSync(file)) throw new LoadError(`${request.file}: no such file`);
    const bundle = await bundleProblemFile(file, API_MODULE);
    userSources = bundle.sources;
    watchdog.bundle(file, bundle.code, bundle.sources);
    watchdog.arm(LOADING, request.timeoutMs);
    moduleExports = loadModule(bundle.code, file);
    watchdog.disarm();
  } catch (error) {
    await send({ type: 'loadError', file: request.file, message: describeLoadError(error, file) });
    return;
  }
  const source = fs.readFileSync(file, 'utf8');
  // Report in source order (the bundle lists exports alphabetically).
  const definitions = discoverProblems(moduleExports)
    .map((definition) => ({ definition, line: locateExport(source, definition.name) }))
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
    .map(({ definition }) => definition);
  const discovered: DiscoveredProblem[] = definitions.map((definition) => ({
    name: definition.name,
    kind: definition.kind,
    line: locateExport(source, definition.name),
  }));
  await send({ type: 'loaded', file: request.file, problems: discovered });
  const exportLocation = (name: string): string => {
    const line = discovered.find((entry) => entry.name === name)?.line ?? 1;
    return formatLocation({ file, line, column: 1 }).replace(/:1$/, '');
  };
  // Errors that did not come with a place in user code point at the export.
  const located = (name: string, error: string): string => (error.includes('(at ') ? error : `${error} (at ${exportLocation(name)})`);
  for (const definition of definitions) {
    if (request.only && !request.only.includes(definition.name)) continue;
    if (request.skip.includes(definition.name)) continue;
    await send({ type: 'started', name: definition.name, activity: `checking ${definition.name}` });
    watchdog.arm(definition.name, request.timeoutMs);
    if (definition.kind === 'invalid') {
      await send({ type: 'result', result: errorResult(definition.name, definition.looksLike, request.options, located(definition.name, definition.error)) });
      await send({ type: 'done', name: definition.name });
      continue;
    }
    let lastProgress = 0;
    const result = await checkProblem(definition, request.options, {
      locateError: locate,
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void send({ type: 'progress', name: definition.name, done, total });
      },
    });
    // Let zero-delay timers the check left behind run now, so their failures count against this problem.
    await new Promise((resolve) => setTimeout(resolve, 0));
    watchdog.disarm();
    if (result.error) result.error = located(definition.name, result.error);
    await send({ type: 'result', result });
    await send({ type: 'done', name: definition.name });
  }
}

const watchdog = new Watchdog(path.join(__dirname, 'watchdog.js'));

process.on('uncaughtException', (error) => {
  void send({ type: 'fatal', message: `uncaught ${error.name}: ${error.message}${locate(error)}` }).then(() => process.kill(process.pid, 'SIGKILL'));
});
process.on('unhandledRejection', (error) => {
  void send({ type: 'fatal', message: `unhandled rejection: ${describeFailure(error)}${locate(error)}` }).then(() => process.kill(process.pid, 'SIGKILL'));
});

// A listener stays attached so the IPC channel keeps this process alive while user promises are pending:
// a promise that never settles then meets the time limit instead of ending the process quietly.
let started = false;
process.on('message', (request: CheckRequest) => {
  if (started) return;
  started = true;
  process.setSourceMapsEnabled(true);
  // User output must never reach the caller's stdout (it may be --json); the parent forwards it.
  guardExit();
  void check(request).then(() => send({ type: 'finished' }));
});
