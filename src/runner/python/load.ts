/**
 * A Python problem file loaded in the runner process: an interpreter
 * (session.ts) that imported the file, its problems as objectives and layers
 * (problems.ts), and the interpreter's time limit, which reports a hang the
 * way the JavaScript watchdog does.
 */
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { type ErrorReport, errorReport, limitError, reportFailure, withSetting } from '../../core/errors';
import { UserCodeError, optimizable } from '../../core/objective';
import { FileNotLoaded, LOADING, type LoadedFile, type LoadedProblem } from '../load';
import { type ErrorData, LOAD_ERROR, type LoadReply, type PythonProblem, locationOf, pythonLayer, pythonLocation, pythonObjective, RemoteProblem } from './problems';
import { chosenInterpreter, interpreterPath, otherInterpreterWith } from './prestart';
import { type HangPlace, PythonSession, PythonTimeLimit, PythonUnavailable, resolveInterpreter } from './session';

/** What the runner's load error says, with its place. */
function loadErrorReport(error: unknown, file: string, memoryMb: number, python: string): ErrorReport {
  if (!(error instanceof ResponseError) || error.code !== LOAD_ERROR) return reportFailure(error, 'load');
  const data = (error.data ?? {}) as ErrorData;
  const location = locationOf(data) ?? { file, line: 1, column: null };
  const name = path.basename(file);
  if (data.outOfMemory) return limitError('memory', memoryMb, ` while importing ${name}`, 'load', location);
  // The interpreter as a path: `python3` alone does not say which of several on the PATH ran.
  const used = interpreterPath(python);
  if (data.missing === 'debugpy') {
    const advice = `debugpy is not installed for the Python interpreter '${used}', so ${name} cannot run under the debugger: install it (${used} -m pip install debugpy, or apt install python3-debugpy for Debian's python3), or choose another interpreter`;
    return withSetting(errorReport(advice, 'user', 'load', { location: null }), 'python');
  }
  if (data.missing === 'torch' || data.missing?.startsWith('torch.')) {
    const advice = `PyTorch is not installed for the Python interpreter '${used}' (${name} imports it): install it (${used} -m pip install torch, or apt install python3-torch for Debian's python3), or choose another interpreter`;
    return withSetting(errorReport(advice, 'user', 'load', { location }), 'python');
  }
  if (data.missing) {
    const advice = `cannot import module '${data.missing}' (imported by ${name}) in the Python interpreter '${used}': install it for that interpreter, put it beside ${name}, or choose another interpreter`;
    return withSetting(errorReport(advice, 'user', 'load', { location }), 'python');
  }
  const message = data.message ?? error.message;
  return errorReport(`${message}${message.startsWith('SyntaxError') ? '' : ` (loading ${name})`}`, 'user', 'load', { location });
}

function loadedProblem(session: PythonSession, problem: PythonProblem, memoryMb: number): LoadedProblem {
  // One objective or layer per problem and session: the runner keeps the arrays sent for each problem.
  const remote = new RemoteProblem(session, problem, memoryMb);
  let opened: ReturnType<LoadedProblem['checkable']> | null = null;
  const open = (reportWrites: boolean) => {
    // A check reports writes into the arguments, as TypeScript's checks do; a run does not.
    remote.reportWrites = reportWrites;
    opened ??= problem.kind === 'layer' ? pythonLayer(remote) : pythonObjective(remote);
    return opened;
  };
  return {
    name: problem.name,
    kind: problem.kind,
    line: problem.line,
    secondOrder: problem.secondOrder ?? false,
    looksLike: problem.kind === 'invalid' ? problem.looksLike ?? 'scalar' : problem.kind,
    invalid: problem.kind === 'invalid' ? problem.error ?? `${problem.name} is not a valid problem` : null,
    checkable: () => open(true),
    objective: () => {
      const objective = open(false);
      if ('forward' in objective) throw new Error(`${problem.name} is not a scalar problem`);
      return optimizable(objective);
    },
  };
}

/**
 * Starts an interpreter (`python`, else $GRADLENS_PYTHON, else python3) and
 * imports the file in it; throws FileNotLoaded. `onHang` hears of a time
 * limit met, with the place in user code.
 */
export async function loadPythonFile(
  file: string,
  options: { python: string | null; memoryMb: number; timeoutMs: number; debug?: boolean },
  onOutput: (text: string) => void,
  onHang: (activity: string, place: HangPlace | null) => void,
): Promise<LoadedFile> {
  let python = resolveInterpreter(options.python, file);
  let session = new PythonSession(python, onOutput);
  let limit = new PythonTimeLimit(session, file, onHang);
  limit.arm(LOADING, options.timeoutMs);
  let loaded: LoadReply;
  try {
    try {
      loaded = await session.request<LoadReply>('load', { file, memoryMb: options.memoryMb, debug: options.debug === true });
    } catch (error) {
      // The default python3 has no NumPy (a bare pyenv or venv before the system's): another python3 may.
      const other = error instanceof PythonUnavailable && error.withoutNumpy && chosenInterpreter(options.python) === null ? otherInterpreterWith(['numpy']) : null;
      if (other === null) throw error;
      limit.disarm();
      python = other;
      session = new PythonSession(python, onOutput);
      limit = new PythonTimeLimit(session, file, onHang);
      limit.arm(LOADING, options.timeoutMs);
      loaded = await session.request<LoadReply>('load', { file, memoryMb: options.memoryMb, debug: options.debug === true });
    }
  } catch (error) {
    session.stop('not loaded');
    throw new FileNotLoaded(loadErrorReport(error, file, options.memoryMb, python));
  } finally {
    limit.disarm();
  }
  return {
    file,
    problems: loaded.problems.map((problem) => loadedProblem(session, problem, options.memoryMb)),
    limit,
    locate: (error) => pythonLocation(error instanceof UserCodeError ? error.cause : error),
    exchanges: () => session.requests,
    close: () => session.stop('finished'),
  };
}
