/**
 * The one protocol between the extension host and the dashboard webview
 * (`webview/`, bundled for the browser). Every message is a member of a
 * union discriminated on `type`.
 *
 * Handshake: the webview posts `{ type: 'ready' }` once its listeners are in
 * place; the host sends nothing before that, and after every `ready` (a
 * reload, the panel shown again) it re-sends what it retained.
 *
 * Requests: every webview → host message but `ready` carries a `requestId`
 * and gets exactly one `response`: an error, or null and what the request
 * asked for in its `body` (a tensor's effective learning rates, the path an
 * export was saved to).
 *
 * Flow: every post is a numbered `batch`; the webview answers each with
 * `received` once it has handled it, and the host keeps at most a few posts
 * unanswered (records meanwhile fold into the next post), so a fast run
 * never queues more than the page can take.
 *
 * Run ids are never reused: a restart is a new run. Messages about a run
 * the webview already has are idempotent (`runStarted` again keeps its
 * series; records at or before its last step are ignored), which is what
 * lets the host replay its state after a reload.
 *
 * Zoomed in further than its bounded table resolves, a chart asks for the
 * records of the range shown (`requestRecords`); the host keeps every record
 * of a run (on disk) as the chart columns defined here (runColumns in dashboard-table.ts).
 *
 * This module is imported by the host and by the browser bundle: it must
 * stay free of Node and DOM APIs.
 */
import type { CriticalPointReport } from './core/analysis';
import type { CheckResult } from './core/gradcheck';
export type { TensorRelativeErrors } from './core/gradcheck';
import type { HyperValue, Hyperparameters } from './core/optim/optimizer';
import type { StepRecord, TrainResult } from './core/optim/train';
import type { NestedNumbers } from './core/tensor';

export type { StepRecord } from './core/optim/train';

// ---------------------------------------------------------------- host → webview

export interface TensorShape {
  name: string;
  shape: number[];
}

export interface RunStarted {
  type: 'runStarted';
  runId: string;
  /** The problem's name (a built-in such as `rosenbrock`, or an export name). */
  problem: string;
  optimizer: string;
  hyperparameters: Hyperparameters;
  tensors: TensorShape[];
  /** A 2-D problem: records carry `params`, drawn as a trajectory over the loss surface of `problem`. */
  twoDimensional: boolean;
  /** Where a 2-D run starts ([x, y]); null otherwise. */
  start: [number, number] | null;
  /** Records carry per-dimension effective learning rates (Adagrad, RMSprop, Adam and kin). */
  adaptive: boolean;
  /** The tensor whose full effective learning rates come with every record (TrainOptions.detailTensor). */
  detailTensor: string | null;
  /** Steps planned. */
  steps: number;
  /** Runs started together by Compare Optimizers share a group and are drawn together; null: a single run. */
  compareGroup: string | null;
  /**
   * A training script's run (gradlens.watch), not GradLens's own: live from a VS Code terminal, or replayed from
   * its log. The dashboard offers no controls for it (the script runs on its own); `steps` is 0 (not known).
   */
  external?: ExternalSource;
}

export interface ExternalSource {
  /** The script's file name (train.py), or null for an interactive session. */
  script: string | null;
  /** Streaming from a running script (else: replayed from `log`). */
  live: boolean;
  /** The log a replayed run was read from. */
  log: string | null;
}

export interface RecordsBatch {
  type: 'records';
  runId: string;
  records: StepRecord[];
  /** Seconds since the run started, one per record (the wall-time axis). */
  seconds: number[];
}

/** One metric over a span's records: [min, max, sum, how many finite values, 1 when the minimum came first]. */
export type ColumnSummary = [number, number, number, number, 0 | 1];

/** Consecutive records of a run, folded as the dashboard's table folds them (src/dashboard-table.ts). */
export interface RecordSpan {
  records: number;
  firstStep: number;
  lastStep: number;
  firstSeconds: number;
  lastSeconds: number;
  /** Per column of the run's table (runColumns of its runStarted), in order; null: no finite value. */
  columns: (ColumnSummary | null)[];
  /** A record's full loss differed from its batch loss. */
  separateFullLoss: boolean;
  /** Where the span ends on the 2-D path (runs that record their two parameters), else null. */
  position: [number, number] | null;
}

/**
 * Records of a run too many for the dashboard's table to keep one by one,
 * sent as its entries would hold them (each span within one entry): every
 * minimum, maximum and mean the charts draw is the same as from the records.
 */
export interface RecordSpans {
  type: 'recordSpans';
  runId: string;
  spans: RecordSpan[];
  /** The last span's last record, whole: the effective-rate histograms and the detail tensor of the latest step. */
  newest: StepRecord;
}

export interface RunEnded {
  type: 'runEnded';
  runId: string;
  stopped: TrainResult['stopped'];
  diverged: TrainResult['diverged'];
  /** What stopped a failed run (user code threw), in VS Code's words. */
  failure: string | null;
  /** The parameters at the end, named and shaped as in the problem (exports carry them). */
  finalParams: Record<string, NestedNumbers>;
  finalLoss: number | null;
  finalStep: number;
  seconds: number;
}

/** The run paused (waiting for resume or single steps) or goes on again; `step` is its last step. */
export interface RunStatus {
  type: 'runStatus';
  runId: string;
  paused: boolean;
  step: number;
  /** An external run: records its script dropped so far (the dashboard did not keep up; the script was never slowed). */
  dropped?: number;
}

/** New hyper-parameter values, in force from `step` on (marked on the charts). */
export interface HyperparametersChanged {
  type: 'hyperparametersChanged';
  runId: string;
  step: number;
  values: Hyperparameters;
}

/**
 * The loss of a 2-D problem on a grid: `values[j * nx + i]` is f(x_i, y_j),
 * x_i = x[0] + i·(x[1] − x[0])/(nx − 1), likewise y_j (row-major, rows along y).
 */
export interface LossSurface {
  type: 'lossSurface';
  problem: string;
  x: [number, number];
  y: [number, number];
  nx: number;
  ny: number;
  values: number[];
  minima: [number, number][];
}

export interface CriticalPointMessage {
  type: 'criticalPoint';
  /** The run whose end point was analyzed; null for a problem's starting point. */
  runId: string | null;
  report: CriticalPointReport;
}

/**
 * A checked problem: the runner's ProblemReport (declared here, with the same
 * fields, so that the browser bundle's type-check does not pull in the
 * Node-only runner; test/webview/protocol.test.ts asserts they stay equal),
 * its error as the host words it.
 */
export interface CheckedProblem extends Omit<CheckResult, 'error'> {
  file: string;
  line: number | null;
  /** The error with its place, in VS Code's words. */
  error: string | null;
}

export interface CheckReport {
  type: 'checkReport';
  /** As the user should read it (workspace-relative); `reveal` sends it back. */
  file: string;
  loadError: string | null;
  problems: CheckedProblem[];
}

/** The answer to `requestEffectiveLr`: the full vector of one tensor at the run's latest recorded step, row-major. */
export interface EffectiveLrBody {
  kind: 'effectiveLr';
  runId: string;
  tensor: string;
  step: number;
  values: number[];
  /** The same step's gradient and the rule's accumulator (Adam's v, Adagrad's sum, ...) of the tensor, when known. */
  grad: number[] | null;
  accumulator: number[] | null;
}

/** The answer to `saveExport` and `exportRecords`: where it was saved (workspace-relative), or null when the user cancelled. */
export interface SavedBody {
  kind: 'saved';
  path: string | null;
}

/**
 * The answer to `requestRecords`: every record of the run from `fromStep` to
 * `toStep` (inclusive) as the chart columns of runColumns (dashboard-table.ts) (`columns`
 * names them, in order); `values[c][k]` is column c of record k, null for
 * NaN (JSON has none).
 */
export interface RecordRangeBody {
  kind: 'recordRange';
  runId: string;
  fromStep: number;
  toStep: number;
  columns: string[];
  steps: number[];
  /** Seconds since the run started, as in RecordsBatch. */
  seconds: number[];
  values: (number | null)[][];
}

export type ResponseBody = EffectiveLrBody | SavedBody | RecordRangeBody;

/** Every request gets one: error null when it was carried out, with what it asked for in `body`. */
export interface RequestResponse {
  type: 'response';
  requestId: number;
  error: string | null;
  body: ResponseBody | null;
}

/** `compact`: the small last-result view in the panel area; `panel`: the full dashboard. */
export interface DashboardConfig {
  type: 'config';
  mode: 'panel' | 'compact';
}

export type HostToWebview =
  | DashboardConfig
  | RunStarted
  | RecordsBatch
  | RecordSpans
  | RunEnded
  | RunStatus
  | HyperparametersChanged
  | LossSurface
  | CriticalPointMessage
  | CheckReport
  | RequestResponse;

/** What the host actually posts: its messages, coalesced (at most ~30 posts a second), numbered for `received`. */
export interface HostBatch {
  type: 'batch';
  sequence: number;
  messages: HostToWebview[];
}

// ---------------------------------------------------------------- webview → host

export const RUN_ACTIONS = ['pause', 'resume', 'step', 'stop', 'restart'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export interface Ready {
  type: 'ready';
}

/** The page has handled the host's batch `sequence` (and every one before it). */
export interface Received {
  type: 'received';
  sequence: number;
}

export interface RunControlRequest {
  type: 'control';
  requestId: number;
  runId: string;
  action: RunAction;
}

/** Apply at the next step; the host confirms with `hyperparametersChanged`. */
export interface SetHyperparameters {
  type: 'setHyperparameters';
  requestId: number;
  runId: string;
  values: Hyperparameters;
}

/** Start the run (or its compare group) again from a point of the loss surface. */
export interface RestartFrom {
  type: 'restartFrom';
  requestId: number;
  runId: string;
  start: [number, number];
}

/** Show a problem's export in the editor; `file` as it came in a checkReport. */
export interface Reveal {
  type: 'reveal';
  requestId: number;
  file: string;
  line: number | null;
}

export type ExportContent = { kind: 'text'; text: string } | { kind: 'png'; base64: string };

/** Offer to save an export (the host shows a save dialog starting at `fileName`). */
export interface SaveExport {
  type: 'saveExport';
  requestId: number;
  fileName: string;
  content: ExportContent;
}

/**
 * The optimizers the dashboard offers (torch.optim names in lower case, the
 * presets, newton): the registry's names, kept here so the browser bundle
 * does not pull in the numerics (test/webview/protocol.test.ts keeps them equal).
 */
export const OPTIMIZER_NAMES = ['sgd', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamw', 'adamax', 'nadam', 'radam', 'lbfgs', 'newton', 'momentum', 'nesterov'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * Run another optimizer (the settings' hyper-parameters for it) on the same
 * problem and from the same start as `runId`, with a learning-rate schedule
 * (`step:step_size=1,gamma=0.9`, as the CLI's --schedule; null: constant).
 */
export interface RunWith {
  type: 'runWith';
  requestId: number;
  runId: string;
  optimizer: OptimizerName;
  schedule: string | null;
}

export interface RequestEffectiveLr {
  type: 'requestEffectiveLr';
  requestId: number;
  runId: string;
  tensor: string;
}

/** Every record of a run between two steps (inclusive): at most RECORD_RANGE_LIMIT, else the request is refused. */
export interface RequestRecords {
  type: 'requestRecords';
  requestId: number;
  runId: string;
  fromStep: number;
  toStep: number;
}

/**
 * Save every record of one of GradLens's own runs as CSV, from the host's copy of them (the page's table
 * folds a long run's records into entries); the host shows the save dialog and answers with SavedBody.
 */
export interface ExportRecords {
  type: 'exportRecords';
  requestId: number;
  runId: string;
  fileName: string;
}

/** Most records one requestRecords answers (a zoomed chart asks only when its range holds fewer). */
export const RECORD_RANGE_LIMIT = 20_000;

export type WebviewRequest = RunControlRequest | SetHyperparameters | RestartFrom | RunWith | Reveal | SaveExport | ExportRecords | RequestEffectiveLr | RequestRecords;
export type WebviewToHost = Ready | Received | WebviewRequest;

// ---------------------------------------------------------------- validation of webview → host

/** Limits of the validators: generous for real use, small enough that a bad message cannot flood the host. */
export const LIMITS = Object.freeze({
  idLength: 200,
  pathLength: 4096,
  fileNameLength: 255,
  hyperparameters: 32,
  hyperValueLength: 16,
  textLength: 64 * 1024 * 1024,
  line: 10_000_000,
});

const EXPORT_EXTENSIONS = { text: ['.csv', '.json'], png: ['.png'], records: ['.csv'] } as const;
const HYPERPARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Fields = Record<string, unknown>;

/** A plain object with exactly these keys (no more, no fewer), else null. */
function exactly(value: unknown, keys: readonly string[]): Fields | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return null;
  const own = Object.keys(value);
  if (own.length !== keys.length || !keys.every((key) => Object.prototype.hasOwnProperty.call(value, key))) return null;
  return value as Fields;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= maxLength && !value.includes('\0');
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStep(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isHyperValue(value: unknown): value is HyperValue {
  if (value === null || typeof value === 'boolean' || isFiniteNumber(value)) return true;
  if (typeof value === 'string') return value.length <= LIMITS.idLength && !value.includes('\0');
  return Array.isArray(value) && value.length >= 1 && value.length <= LIMITS.hyperValueLength && value.every(isFiniteNumber);
}

function parseHyperparameters(value: unknown): Hyperparameters | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return null;
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > LIMITS.hyperparameters) return null;
  const parsed: Hyperparameters = {};
  for (const [name, hyper] of entries) {
    if (!HYPERPARAMETER_NAME.test(name) || !isHyperValue(hyper)) return null;
    parsed[name] = Array.isArray(hyper) ? hyper.slice() : hyper;
  }
  return parsed;
}

function isFileName(value: unknown, kind: keyof typeof EXPORT_EXTENSIONS): value is string {
  if (!isText(value, LIMITS.fileNameLength) || /[/\\:]/.test(value) || value.startsWith('.')) return false;
  return EXPORT_EXTENSIONS[kind].some((extension) => value.toLowerCase().endsWith(extension));
}

function parseExportContent(value: unknown): ExportContent | null {
  const text = exactly(value, ['kind', 'text']);
  if (text) return text.kind === 'text' && typeof text.text === 'string' && text.text.length <= LIMITS.textLength ? { kind: 'text', text: text.text } : null;
  const png = exactly(value, ['kind', 'base64']);
  if (!png || png.kind !== 'png' || typeof png.base64 !== 'string') return null;
  const base64 = png.base64;
  return base64.length > 0 && base64.length <= LIMITS.textLength && base64.length % 4 === 0 && BASE64.test(base64) ? { kind: 'png', base64 } : null;
}

/**
 * The message, rebuilt from checked fields, or null when anything about it is
 * off: an unknown type, a missing or extra field, a wrong type, a value out
 * of range. The host uses nothing from the webview that did not pass here.
 */
export function parseWebviewMessage(value: unknown): WebviewToHost | null {
  if (value === null || typeof value !== 'object') return null;
  const type = (value as { type?: unknown }).type;
  switch (type) {
    case 'ready':
      return exactly(value, ['type']) ? { type } : null;
    case 'received': {
      const fields = exactly(value, ['type', 'sequence']);
      return fields && isPositiveInteger(fields.sequence) ? { type, sequence: fields.sequence } : null;
    }
    case 'control': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'action']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength)) return null;
      const action = RUN_ACTIONS.find((candidate) => candidate === fields.action);
      return action ? { type, requestId: fields.requestId, runId: fields.runId, action } : null;
    }
    case 'setHyperparameters': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'values']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength)) return null;
      const values = parseHyperparameters(fields.values);
      return values ? { type, requestId: fields.requestId, runId: fields.runId, values } : null;
    }
    case 'restartFrom': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'start']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength)) return null;
      const start = fields.start;
      if (!Array.isArray(start) || start.length !== 2 || !isFiniteNumber(start[0]) || !isFiniteNumber(start[1])) return null;
      return { type, requestId: fields.requestId, runId: fields.runId, start: [start[0], start[1]] };
    }
    case 'reveal': {
      const fields = exactly(value, ['type', 'requestId', 'file', 'line']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.file, LIMITS.pathLength)) return null;
      const line = fields.line;
      if (line !== null && !(typeof line === 'number' && Number.isInteger(line) && line >= 1 && line <= LIMITS.line)) return null;
      return { type, requestId: fields.requestId, file: fields.file, line };
    }
    case 'saveExport': {
      const fields = exactly(value, ['type', 'requestId', 'fileName', 'content']);
      if (!fields || !isPositiveInteger(fields.requestId)) return null;
      const content = parseExportContent(fields.content);
      return content && isFileName(fields.fileName, content.kind) ? { type, requestId: fields.requestId, fileName: fields.fileName, content } : null;
    }
    case 'exportRecords': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'fileName']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength) || !isFileName(fields.fileName, 'records')) return null;
      return { type, requestId: fields.requestId, runId: fields.runId, fileName: fields.fileName };
    }
    case 'runWith': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'optimizer', 'schedule']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength)) return null;
      const optimizer = OPTIMIZER_NAMES.find((candidate) => candidate === fields.optimizer);
      const schedule = fields.schedule;
      if (!optimizer || (schedule !== null && !isText(schedule, LIMITS.idLength))) return null;
      return { type, requestId: fields.requestId, runId: fields.runId, optimizer, schedule };
    }
    case 'requestRecords': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'fromStep', 'toStep']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength)) return null;
      const { fromStep, toStep } = fields;
      if (!isStep(fromStep) || !isStep(toStep) || fromStep > toStep) return null;
      return { type, requestId: fields.requestId, runId: fields.runId, fromStep, toStep };
    }
    case 'requestEffectiveLr': {
      const fields = exactly(value, ['type', 'requestId', 'runId', 'tensor']);
      if (!fields || !isPositiveInteger(fields.requestId) || !isText(fields.runId, LIMITS.idLength) || !isText(fields.tensor, LIMITS.idLength)) return null;
      return { type, requestId: fields.requestId, runId: fields.runId, tensor: fields.tensor };
    }
    default:
      return null;
  }
}
