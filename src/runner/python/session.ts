/**
 * One Python interpreter running python/gradlens_runner.py: the process and
 * its JSON-RPC 2.0 connection over stdio (vscode-jsonrpc, Content-Length
 * framing). The interpreter is the sandbox of Python user code inside the
 * runner process: a request never hangs on a dead interpreter, and at a time
 * limit the interpreter is asked where it is (faulthandler), then killed.
 */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { type Message, type MessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { KnownFailure, type SourceLocation } from '../../core/errors';
import { interpreter, interpreterPath, runnerScript } from './prestart';

export { resolveInterpreter } from './prestart';

/** Exit code of the runner when `import numpy` fails. */
const NUMPY_MISSING_EXIT = 3;
/** How long a hung interpreter gets to print its stack (SIGUSR1, faulthandler) before it is killed. */
export const STACK_GRACE_MS = 500;


const CHOOSE = 'choose another interpreter';

/** The interpreter could not run the runner (missing, no NumPy, died): nothing more can be evaluated in it. */
export class PythonUnavailable extends KnownFailure {
  override name = 'PythonUnavailable';

  /** A message that ends in "choose another interpreter" names the interpreter setting right there. */
  constructor(
    message: string,
    /** The interpreter runs, but cannot import NumPy. */
    readonly withoutNumpy = false,
  ) {
    super(message, 'runner', message.endsWith(CHOOSE) ? { name: 'python', at: message.length } : null);
  }
}

/** Where a hung interpreter was: the innermost frame in the user's files. */
export interface HangPlace {
  functionName: string;
  location: SourceLocation;
}

/**
 * A writer whose writes never reject. vscode-jsonrpc 8.2.1's sendRequest rethrows a failed write from
 * an async Promise executor, an unhandled rejection that ends the process; a write fails only when the
 * interpreter is gone, and its exit rejects every request anyway (PythonSession.ended).
 */
class TolerantWriter extends StreamMessageWriter {
  override write(message: Message): Promise<void> {
    return super.write(message).catch(() => undefined);
  }
}

export class PythonSession {
  /** JSON-RPC requests sent (round trips), for tests and benchmarks. */
  requests = 0;
  private readonly child: ChildProcess;
  private readonly connection: MessageConnection;
  private readonly ended: Promise<never>;
  /** Resolves once the process exists: nothing is written to a process that failed to start. */
  private readonly spawned: Promise<void>;
  private stderrTail = '';
  private exited = false;
  /** The runner has answered a request: it runs, whatever happens later. */
  private answered = false;
  private stopReason: string | null = null;
  /** Output after a time limit is the faulthandler's stack dump: kept, not forwarded. */
  private capturing = false;
  private captured = '';

  constructor(
    readonly python: string,
    private readonly onOutput?: (text: string) => void,
  ) {
    const started = interpreter(python);
    this.child = started.child;
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      if (this.capturing) this.captured += text;
      else this.onOutput?.(text);
    });
    this.ended = started.ended.then((outcome) => {
      this.exited = true;
      if ('error' in outcome) {
        const { error } = outcome;
        throw new PythonUnavailable(error.code === 'ENOENT'
          ? `Python interpreter '${python}' not found: install Python 3 with NumPy (Debian/Ubuntu: apt install python3-numpy), or ${CHOOSE}`
          : `could not start the Python interpreter '${python}': ${error.message}`);
      }
      const { code, signal } = outcome;
      if (this.stopReason) throw new PythonUnavailable(this.stopReason);
      if (code === NUMPY_MISSING_EXIT && /gradlens-runner: numpy missing/.test(this.stderrTail)) {
        const used = interpreterPath(python);
        throw new PythonUnavailable(`NumPy is not installed for the Python interpreter '${used}': install it (${used} -m pip install numpy, or apt install python3-numpy for Debian's python3), or ${CHOOSE}`, true);
      }
      const detail = this.stderrTail.trim().split('\n').slice(-3).join('\n');
      // Ended before it ever answered: most likely not a Python 3 interpreter at all.
      const advice = this.answered ? '' : `; is '${python}' a Python 3 interpreter? Otherwise ${CHOOSE}`;
      throw new PythonUnavailable(`the Python runner (${python}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${detail ? `: ${detail}` : ''}${advice}`);
    });
    this.ended.catch(() => undefined);
    this.spawned = started.spawned;
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new TolerantWriter(this.child.stdin!));
    this.connection.onError(() => undefined);
    this.child.stdin!.on('error', () => undefined);
    this.connection.listen();
  }

  /** The interpreter has exited (or was stopped): every request rejects. */
  get gone(): boolean {
    return this.exited || this.stopReason !== null;
  }

  /** One request; rejects (never hangs) when the interpreter exits or is stopped. Error replies reject with a ResponseError. */
  async request<T>(method: string, params: unknown): Promise<T> {
    this.requests++;
    await Promise.race([this.spawned, this.ended]);
    if (this.exited) return this.ended;
    const reply = await Promise.race([this.connection.sendRequest<T>(method, params), this.ended]).catch((error: unknown) => {
      if (error instanceof ResponseError) this.answered = true;
      throw error;
    });
    this.answered = true;
    return reply;
  }

  /** Stops the interpreter; pending and later requests reject with `reason`. */
  stop(reason: string): void {
    if (this.exited) return;
    this.stopReason ??= reason;
    this.child.kill('SIGKILL');
    this.connection.dispose();
  }

  /** Where the interpreter is now in the files of `userFile`'s folder (faulthandler's dump on SIGUSR1), null when it cannot tell. */
  async where(userFile: string): Promise<HangPlace | null> {
    if (this.exited || process.platform === 'win32') return null;
    this.capturing = true;
    this.child.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, STACK_GRACE_MS));
    return hangPlace(this.captured, userFile);
  }
}

/**
 * The innermost frame in the user's files of faulthandler's dump ("File "x.py", line 5 in f", most
 * recent first): the problem file and the modules in its folder tree, as gradlens_runner.py's
 * _is_user_file tells them; not the runner, installed packages, the standard library or frames
 * without a file (`<__array_function__ internals>`, `<frozen ...>`).
 */
export function hangPlace(dump: string, userFile: string): HangPlace | null {
  const runner = runnerScript();
  const root = path.resolve(userFile);
  const folder = path.dirname(root) + path.sep;
  for (const match of dump.matchAll(/File "([^"]+)", line (\d+) in (\S+)/g)) {
    if (match[1].startsWith('<')) continue;
    const file = path.resolve(match[1]);
    if (file === runner || /[/\\](site|dist)-packages[/\\]/.test(file) || (file !== root && !file.startsWith(folder))) continue;
    return { functionName: match[3], location: { file, line: Number(match[2]), column: null } };
  }
  return null;
}

/**
 * The time limit of a Python session, with the same arm/disarm as the
 * JavaScript watchdog: at the limit the interpreter is asked where it is,
 * `onHang` gets the place in user code, then the interpreter is stopped.
 */
export class PythonTimeLimit {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: PythonSession,
    /** The problem file: a hang is located in its folder's files. */
    private readonly userFile: string,
    private readonly onHang: (activity: string, place: HangPlace | null) => void,
  ) {}

  arm(activity: string, milliseconds: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // Report first, then stop: the parent ends the request on the report, before a failed evaluation could end it otherwise.
      void this.session.where(this.userFile).then((place) => {
        this.onHang(activity, place);
        this.session.stop('timed out');
      });
    }, milliseconds);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }
}
