/**
 * A problem file loaded in the runner process, whatever its language: its
 * problems as the engine evaluates them, the time limit of its user code, and
 * where in the user's files an error happened. The worker checks, steps and
 * analyzes through this alone; loadScriptFile (TypeScript/JavaScript, here)
 * and loadPythonFile (python/load.ts) make one.
 */
import Module from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asObjective, flatLayer, scalarObjective } from '../core/definitions';
import { type ErrorReport, type SourceLocation, errorReport } from '../core/errors';
import { locateExport } from '../core/exports';
import type { Checkable } from '../core/gradcheck';
import { type Objective, UserCodeError } from '../core/objective';
import { type ProblemDefinition, type InvalidProblem, discoverProblems } from '../core/problem';
import type { DiscoveredProblem } from '../protocol';
import { LoadError, bundleProblemFile } from './bundle';
import { userFrame } from './stack';
import type { Watchdog } from './watchdog';

/** The watchdog's name for the module's own top-level code (and for loading in general). */
export const LOADING = '';

export interface TimeLimit {
  arm(activity: string, milliseconds: number): void;
  disarm(): void;
}

export interface LoadedProblem extends DiscoveredProblem {
  /** What an invalid problem looked like, for its error result. */
  looksLike: 'scalar' | 'layer';
  /** Why an invalid problem is invalid. */
  invalid: string | null;
  /** What a check evaluates (user writes into arguments reported); throws user errors such as malformed params. */
  checkable(): Checkable;
  /** What optimizers and the analysis evaluate; scalar problems only. */
  objective(): Objective;
}

export interface LoadedFile {
  /** Absolute path. */
  file: string;
  problems: LoadedProblem[];
  /** The time limit of this language's user code. */
  limit: TimeLimit;
  /** Where in the user's files an error of user code happened. */
  locate(error: unknown): SourceLocation | null;
  /** Round trips with an interpreter so far (0 for TypeScript). */
  exchanges(): number;
  close(): void;
}

/** A file that did not load: the error the worker reports as its loadError. */
export class FileNotLoaded extends Error {
  constructor(readonly report: ErrorReport) {
    super(report.message);
  }
}

/**
 * The problem file's module, compiled from its bundle. Kept for the life of the process: Node keeps a
 * CommonJS module's source map only while the module object lives (a weak map), and without it the
 * stacks of user errors would show the bundle's lines instead of the file's.
 */
const loadedModules: Module[] = [];

/** Where `require` looks for the packages `file` imports: node_modules in its folder and each folder above. */
function nodeModulesChain(file: string): string[] {
  return (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
}

/** The node_modules folders a missing package was looked for in, briefly: those that exist, nearest first. */
function lookedIn(file: string): string {
  const existing = nodeModulesChain(file).filter((folder) => fs.existsSync(folder));
  if (existing.length === 0) return 'no node_modules folder in its folder or above it';
  const shown = existing.slice(0, 3).join(', ');
  return `not in ${shown}${existing.length > 3 ? ` or ${existing.length - 3} more above` : ''}`;
}

function loadModule(code: string, file: string): unknown {
  const module = new Module(file);
  module.filename = file;
  module.paths = nodeModulesChain(file);
  (module as unknown as { _compile(code: string, file: string): void })._compile(code, file);
  loadedModules.push(module);
  return module.exports;
}

function describeModuleError(error: unknown, file: string, sources: readonly string[]): ErrorReport {
  if (error instanceof LoadError) return errorReport(error.message, 'user', 'load', { location: error.location });
  const name = path.basename(file);
  const location = userFrame(error, sources);
  const code = (error as { code?: string }).code;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec((error as Error).message)?.[1] ?? 'a module';
    return errorReport(`cannot find module '${missing}' (imported by ${name}; ${lookedIn(file)}: is it installed in the workspace?)`, 'user', 'load', { location });
  }
  return errorReport(`loading ${name} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, 'user', 'load', { location });
}

function loadedDefinition(definition: ProblemDefinition | InvalidProblem, line: number | null): LoadedProblem {
  const notScalar = (): never => {
    throw new Error(`${definition.name} is not a scalar problem`);
  };
  return {
    name: definition.name,
    kind: definition.kind,
    line,
    secondOrder: definition.kind === 'scalar' && definition.hvp !== null,
    looksLike: definition.kind === 'invalid' ? definition.looksLike : definition.kind,
    invalid: definition.kind === 'invalid' ? definition.error : null,
    checkable: () => (definition.kind === 'layer'
      ? flatLayer(definition, { reportWrites: true })
      : definition.kind === 'scalar' ? scalarObjective(definition, { reportWrites: true }) : notScalar()),
    objective: () => (definition.kind === 'scalar' ? asObjective(definition) : notScalar()),
  };
}

/** No time limit (under a debugger). */
export const NO_TIME_LIMIT: TimeLimit = { arm: () => undefined, disarm: () => undefined };

/** Bundles and loads a TypeScript or JavaScript problem file; throws FileNotLoaded. A null watchdog: no time limit. */
export async function loadScriptFile(file: string, apiModule: string, watchdog: Watchdog | null, timeoutMs: number): Promise<LoadedFile> {
  let sources: string[] = [];
  let moduleExports: unknown;
  try {
    if (!fs.existsSync(file)) throw new LoadError(`${path.basename(file)}: no such file`, null);
    const bundle = await bundleProblemFile(file, apiModule);
    sources = bundle.sources;
    watchdog?.bundle(file, bundle.code, bundle.sources);
    watchdog?.arm(LOADING, timeoutMs);
    moduleExports = loadModule(bundle.code, file);
    watchdog?.disarm();
  } catch (error) {
    throw new FileNotLoaded(describeModuleError(error, file, sources));
  }
  const source = fs.readFileSync(file, 'utf8');
  // In source order (the bundle lists exports alphabetically).
  const problems = discoverProblems(moduleExports)
    .map((definition) => loadedDefinition(definition, locateExport(source, definition.name)))
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return {
    file,
    problems,
    limit: watchdog ?? NO_TIME_LIMIT,
    locate: (error) => userFrame(error instanceof UserCodeError ? error.cause : error, sources),
    exchanges: () => 0,
    close: () => undefined,
  };
}
