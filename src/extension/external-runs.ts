/**
 * Training scripts' runs in the dashboard (gradlens.watch in python/gradlens_watch.py): live over a local
 * socket whose path VS Code's terminals get in GRADLENS_WATCH_SOCKET, or replayed from a JSON Lines log. Their
 * lines become the dashboard's own messages (runStarted, records, runStatus, runEnded): the same record
 * schema, channel and dashboard as GradLens's runs. Independent of the vscode module, so it is tested in Node.
 *
 * The socket is a Unix domain socket in a fresh directory only its owner may enter (0700; the socket 0600),
 * or a named pipe on Windows: never a TCP port. The script never waits for the dashboard (its sender drops
 * beyond a bounded buffer, and the drops come here as a count); closing the dashboard changes nothing for it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { type RunLog, type RunLogHeader, type RunLogStep, parseRunLogLine } from '../core/run-log';
import type { EffectiveLrBody, ExternalSource, HostToWebview, ResponseBody, RunStarted } from '../webview-protocol';
import { RetainedState, PANEL_RETENTION } from './dashboard/retained';
import type { DashboardRequest } from './dashboard/channel';

export const SOCKET_VARIABLE = 'GRADLENS_WATCH_SOCKET';
/** A line longer than this is not a watch's (a record of a huge detail tensor is far shorter): the connection is dropped. */
const LINE_LIMIT = 256 * 1024 * 1024;
/** How long a tensor's rates may take to come with a recorded step. */
const ANSWER_TIMEOUT_MS = 30_000;

export interface ExternalRunsOutput {
  /** To the dashboard (opened first when `open`). */
  publish(message: HostToWebview, open: boolean): void;
  log(text: string): void;
}

function runStarted(header: RunLogHeader, runId: string, compareGroup: string, external: ExternalSource): RunStarted {
  return {
    type: 'runStarted',
    runId,
    problem: header.name,
    optimizer: header.optimizer,
    hyperparameters: header.hyperparameters,
    tensors: header.tensors,
    twoDimensional: false,
    start: null,
    adaptive: header.adaptive,
    detailTensor: header.detailTensor,
    steps: 0,
    compareGroup,
    external,
  };
}

interface PendingAnswer {
  tensor: string;
  settle(body: EffectiveLrBody | Error): void;
  timer: NodeJS.Timeout;
}

/** One live connection: its lines as dashboard messages. */
class WatchedConnection {
  header: RunLogHeader | null = null;
  private lastStep = 0;
  private lastLoss: number | null = null;
  private dropped = 0;
  private seconds = 0;
  private ended = false;
  private lineNumber = 0;
  private readonly pending = new Map<number, PendingAnswer>();
  private nextRequest = 1;

  constructor(
    readonly runId: string,
    private readonly socket: net.Socket,
    private readonly output: ExternalRunsOutput,
    private readonly onStarted: (run: WatchedConnection) => void,
  ) {}

  get label(): string {
    return `${this.header?.name ?? this.runId} (${this.header?.optimizer ?? 'starting'}, live)`;
  }

  line(text: string): void {
    this.lineNumber += 1;
    if (text.trim() === '') return;
    let parsed;
    try {
      parsed = parseRunLogLine(text, `watched run ${this.header?.name ?? this.runId}, line ${this.lineNumber}`);
    } catch (error) {
      this.output.log(`GradLens: ${(error as Error).message} (left out)`);
      return;
    }
    if (parsed.type === 'run') {
      if (this.header) return;
      this.header = parsed.header;
      const script = parsed.header.script ? path.basename(parsed.header.script) : null;
      this.output.publish(runStarted(parsed.header, this.runId, this.runId, { script, live: true, log: null }), true);
      this.onStarted(this);
    } else if (!this.header) {
      this.output.log(`GradLens: watched run ${this.runId}: a line before the run line, left out`);
    } else if (parsed.type === 'step') {
      this.step(parsed.step);
    } else if (parsed.type === 'end') {
      this.finish(null, parsed.end.seconds, parsed.end.failed ? 'the watch stopped recording on an error of its own (see the script\'s output)' : null);
    }
  }

  private step(step: RunLogStep): void {
    const { record } = step;
    if (record.step <= this.lastStep) return;
    this.lastStep = record.step;
    this.seconds = step.seconds;
    if (Number.isFinite(record.loss)) this.lastLoss = record.loss;
    this.output.publish({ type: 'records', runId: this.runId, records: [record], seconds: [step.seconds] }, false);
    if (step.dropped !== this.dropped) {
      this.dropped = step.dropped;
      this.output.publish({ type: 'runStatus', runId: this.runId, paused: false, step: record.step, dropped: step.dropped }, false);
    }
    for (const answer of step.answers) {
      const question = this.pending.get(answer.requestId);
      if (!question) continue;
      this.pending.delete(answer.requestId);
      clearTimeout(question.timer);
      question.settle(answer.values
        ? { kind: 'effectiveLr', runId: this.runId, tensor: answer.tensor, step: record.step, values: answer.values, grad: answer.grad, accumulator: answer.accumulator }
        : new Error(answer.error ?? `no rates of ${answer.tensor}`));
    }
  }

  /** The run's end: the watch's end line (`failure` null), or the connection lost without one. */
  finish(failure: string | null, seconds = this.seconds, note: string | null = null): void {
    if (this.ended) return;
    this.ended = true;
    for (const [requestId, question] of this.pending) {
      this.pending.delete(requestId);
      clearTimeout(question.timer);
      question.settle(new Error(`${this.runId} ended before it answered`));
    }
    if (!this.header) return;
    this.output.publish({
      type: 'runEnded',
      runId: this.runId,
      stopped: failure ? 'failed' : 'steps',
      diverged: null,
      failure: failure ?? note,
      finalParams: {},
      finalLoss: this.lastLoss,
      finalStep: this.lastStep,
      seconds,
    }, false);
  }

  /** A tensor's every rate, with the script's next recorded step. */
  requestRates(tensor: string): Promise<EffectiveLrBody> {
    const header = this.header!;
    if (!header.tensors.some((entry) => entry.name === tensor)) throw new Error(`no tensor ${tensor} in ${header.name} (it has ${header.tensors.map((entry) => entry.name).join(', ')})`);
    if (!header.adaptive) throw new Error(`${header.optimizer} has no per-dimension effective learning rate`);
    if (this.ended) throw new Error(`${header.name} has ended: its per-element rates are no longer computed`);
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${header.name} recorded no step within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      this.pending.set(requestId, { tensor, timer, settle: (body) => (body instanceof Error ? reject(body) : resolve(body)) });
      this.socket.write(`${JSON.stringify({ type: 'detail', tensor, requestId })}\n`);
    });
  }
}

/** Replayed logs: what a request about them can get (their detail tensor's rates, of the last record). */
interface ReplayedRun {
  label: string;
  log: RunLog;
}

export class ExternalRuns {
  private server: net.Server | null = null;
  private directory: string | null = null;
  /** Where scripts connect (set once listening). */
  socketPath: string | null = null;
  private readonly live = new Map<string, WatchedConnection>();
  private readonly replayed = new Map<string, ReplayedRun>();
  private readonly sockets = new Set<net.Socket>();
  /** Compare group per run: a log opened over another run joins its group (the dashboard overlays them). */
  private readonly groups = new Map<string, string>();
  /** What external runs told the dashboard, for a dashboard opened later (the runs go on without it). */
  private readonly retained = new RetainedState(PANEL_RETENTION);
  private readonly publisher: ExternalRunsOutput;
  private nextId = 1;

  constructor(output: ExternalRunsOutput) {
    this.publisher = {
      publish: (message, open) => {
        this.retained.remember(message);
        output.publish(message, open);
      },
      log: (text) => output.log(text),
    };
  }

  /** Everything external runs have sent so far, in order (for a newly opened dashboard). */
  retainedMessages(): HostToWebview[] {
    return this.retained.replay();
  }

  private newRunId(kind: 'live' | 'log'): string {
    return `external-${kind}-${this.nextId++}-${crypto.randomBytes(3).toString('hex')}`;
  }

  /** Listens on a fresh owner-only socket; resolves with its path. */
  async listen(): Promise<string> {
    let socketPath: string;
    if (process.platform === 'win32') {
      socketPath = `\\\\.\\pipe\\gradlens-watch-${process.pid}-${crypto.randomBytes(8).toString('hex')}`;
    } else {
      // mkdtemp makes the directory 0700: no other user can reach the socket inside it, whatever the umask.
      this.directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-'));
      socketPath = path.join(this.directory, 'watch.sock');
    }
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (process.platform !== 'win32') fs.chmodSync(socketPath, 0o600);
    server.on('error', (error) => this.publisher.log(`GradLens: the watch socket failed: ${error.message}`));
    this.server = server;
    this.socketPath = socketPath;
    return socketPath;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const run = new WatchedConnection(this.newRunId('live'), socket, this.publisher, (started) => {
      this.live.set(started.runId, started);
      this.groups.set(started.runId, started.runId);
    });
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        run.line(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
      if (buffered.length > LINE_LIMIT) {
        this.publisher.log(`GradLens: watched run ${run.runId} sent a line over ${LINE_LIMIT} bytes; disconnected`);
        socket.destroy();
      }
    });
    // The script may end without a last newline (killed mid-write): what came whole is kept.
    const closed = () => {
      this.sockets.delete(socket);
      run.finish('the script ended without closing the watch (killed, or it crashed)');
    };
    socket.on('end', () => {
      if (buffered.trim()) run.line(buffered);
      buffered = '';
      socket.end();
    });
    socket.on('close', closed);
    socket.on('error', (error) => this.publisher.log(`GradLens: watched run ${run.runId}: ${error.message}`));
  }

  /** Replays a log into the dashboard; `compareWith`: overlay it on that external run (joins its compare group). */
  replay(log: RunLog, file: string, compareWith: string | null = null): string {
    const runId = this.newRunId('log');
    const script = log.header.script ? path.basename(log.header.script) : null;
    const group = (compareWith && this.groups.get(compareWith)) ?? runId;
    this.replayed.set(runId, { label: `${log.header.name} (${log.header.optimizer}, ${path.basename(file)})`, log });
    this.groups.set(runId, group);
    this.publisher.publish(runStarted(log.header, runId, group, { script, live: false, log: file }), true);
    if (log.steps.length) {
      this.publisher.publish({ type: 'records', runId, records: log.steps.map((step) => step.record), seconds: log.steps.map((step) => step.seconds) }, false);
    }
    const last = log.steps.at(-1);
    const dropped = log.end?.dropped ?? last?.dropped ?? 0;
    if (dropped) this.publisher.publish({ type: 'runStatus', runId, paused: false, step: last?.record.step ?? 0, dropped }, false);
    const losses = log.steps.map((step) => step.record.loss).filter(Number.isFinite);
    this.publisher.publish({
      type: 'runEnded',
      runId,
      stopped: log.end && !log.end.failed ? 'steps' : 'failed',
      diverged: null,
      failure: log.end
        ? (log.end.failed ? 'the watch stopped recording on an error of its own' : null)
        : `the log ends without the watch's end (the script was killed, or still runs)${log.cutOff ? '; its cut-off last line is left out' : ''}`,
      finalParams: {},
      finalLoss: losses.at(-1) ?? null,
      finalStep: last?.record.step ?? 0,
      seconds: log.end?.seconds ?? last?.seconds ?? 0,
    }, false);
    return runId;
  }

  /** The external runs (live first), for Open Run Log's overlay choice. */
  runs(): { runId: string; label: string; live: boolean }[] {
    return [
      ...[...this.live.values()].map((run) => ({ runId: run.runId, label: run.label, live: true })),
      ...[...this.replayed].map(([runId, run]) => ({ runId, label: run.label, live: false })),
    ];
  }

  owns(runId: string): boolean {
    return this.live.has(runId) || this.replayed.has(runId);
  }

  /** A dashboard request about an external run: only a tensor's rates can be asked for; nothing controls the script. */
  async handle(request: Exclude<DashboardRequest, { type: 'reveal' }>): Promise<ResponseBody | null> {
    const live = this.live.get(request.runId);
    if (request.type === 'requestEffectiveLr') {
      if (live) return live.requestRates(request.tensor);
      const replayed = this.replayed.get(request.runId);
      const last = replayed?.log.steps.at(-1)?.record;
      if (replayed && last?.effectiveLrDetail && replayed.log.header.detailTensor === request.tensor) {
        return { kind: 'effectiveLr', runId: request.runId, tensor: request.tensor, step: last.step, values: last.effectiveLrDetail, grad: last.gradDetail, accumulator: last.accumulatorDetail };
      }
      throw new Error(`the log of ${replayed?.label ?? request.runId} has every rate of ${replayed?.log.header.detailTensor ?? 'no tensor'} only (gradlens.watch(..., detail="${request.tensor}") records them)`);
    }
    if (request.type === 'exportRecords') {
      const replayed = this.replayed.get(request.runId);
      throw new Error(replayed ? `every record of ${replayed.label} is in its run log` : `${live?.label ?? request.runId} is a training script's run: gradlens.watch(..., log_dir=...) writes every record to a JSON Lines log`);
    }
    throw new Error(`${live?.label ?? 'a replayed log'} is a training script's run: it is not controlled from the dashboard`);
  }

  dispose(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server?.close();
    this.server = null;
    if (this.directory) fs.rmSync(this.directory, { recursive: true, force: true });
    this.directory = null;
  }
}
