/**
 * What the host keeps of the messages it sent to a dashboard, to replay
 * them when the webview (re)loads and says `ready`: the latest config,
 * check reports, loss surfaces, critical points and, per run, its start,
 * changes, end and a bounded sample of its records (an evenly thinned
 * history plus the most recent ones). A webview restored from its own saved
 * state ignores what it already has (records at or before its last step);
 * a fresh one gets a coarse history and the recent records in full.
 */
import { ThinnedHistory } from '../../core/history';
import type {
  CheckReport,
  CriticalPointMessage,
  DashboardConfig,
  HostToWebview,
  HyperparametersChanged,
  LossSurface,
  RecordsBatch,
  RunEnded,
  RunStarted,
  RunStatus,
  StepRecord,
} from '../../webview-protocol';
import { slimRecord } from './record-spans';

export interface RetentionLimits {
  runs: number;
  /** Records of the evenly thinned history of a run. */
  historyRecords: number;
  /** The newest records of a run, kept as they are. */
  recentRecords: number;
  checkReports: number;
  surfaces: number;
  criticalPoints: number;
}

export const PANEL_RETENTION: Readonly<RetentionLimits> = Object.freeze({
  runs: 12,
  historyRecords: 1000,
  recentRecords: 1000,
  checkReports: 8,
  surfaces: 8,
  criticalPoints: 8,
});

/** The last-result view shows one thing: the last check or the last run. */
export const COMPACT_RETENTION: Readonly<RetentionLimits> = Object.freeze({
  runs: 1,
  historyRecords: 500,
  recentRecords: 500,
  checkReports: 1,
  surfaces: 0,
  criticalPoints: 0,
});

interface KeptRecord {
  record: StepRecord;
  seconds: number;
}

class RetainedRun {
  ended: RunEnded | null = null;
  status: RunStatus | null = null;
  readonly changes: HyperparametersChanged[] = [];
  private readonly history: ThinnedHistory<KeptRecord>;
  private recent: KeptRecord[] = [];
  private newest: KeptRecord | null = null;

  constructor(
    readonly started: RunStarted,
    private readonly limits: RetentionLimits,
    /** Order of the run's latest start or end among everything retained. */
    public sequence: number,
  ) {
    this.history = new ThinnedHistory(limits.historyRecords);
  }

  add(batch: RecordsBatch): void {
    batch.records.forEach((record, k) => {
      // The histograms and the detail tensor only matter for the newest record (the page shows them for the latest step).
      const kept = { record: slimRecord(record), seconds: batch.seconds[k] };
      this.newest = { record, seconds: batch.seconds[k] };
      this.history.add(kept);
      this.recent.push(kept);
    });
    if (this.recent.length > this.limits.recentRecords) this.recent.splice(0, this.recent.length - this.limits.recentRecords);
  }

  replay(): HostToWebview[] {
    const byStep = new Map<number, KeptRecord>();
    for (const kept of [...this.history.items(), ...this.recent]) byStep.set(kept.record.step, kept);
    if (this.newest) byStep.set(this.newest.record.step, this.newest);
    const kept = [...byStep.values()].sort((a, b) => a.record.step - b.record.step);
    const messages: HostToWebview[] = [this.started];
    if (kept.length) messages.push({ type: 'records', runId: this.started.runId, records: kept.map((entry) => entry.record), seconds: kept.map((entry) => entry.seconds) });
    messages.push(...this.changes);
    if (this.status) messages.push(this.status);
    if (this.ended) messages.push(this.ended);
    return messages;
  }
}

/** A map that forgets its oldest entries beyond `limit`, re-inserting on update (newest last). */
function keep<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > limit) map.delete(map.keys().next().value as K);
}

export class RetainedState {
  private config: DashboardConfig | null = null;
  private readonly runs = new Map<string, RetainedRun>();
  private readonly checks = new Map<string, { report: CheckReport; sequence: number }>();
  private readonly surfaces = new Map<string, { surface: LossSurface; sequence: number }>();
  private readonly critical: { message: CriticalPointMessage; sequence: number }[] = [];
  private sequence = 0;

  constructor(private readonly limits: RetentionLimits) {}

  hasRun(runId: string): boolean {
    return this.runs.has(runId);
  }

  hasFile(file: string): boolean {
    return this.checks.has(file);
  }

  remember(message: HostToWebview): void {
    const sequence = ++this.sequence;
    switch (message.type) {
      case 'config':
        this.config = message;
        break;
      case 'runStarted':
        if (!this.runs.has(message.runId)) keep(this.runs, message.runId, new RetainedRun(message, this.limits, sequence), this.limits.runs);
        break;
      case 'records':
        this.runs.get(message.runId)?.add(message);
        break;
      case 'hyperparametersChanged':
        this.runs.get(message.runId)?.changes.push(message);
        break;
      case 'runStatus': {
        const run = this.runs.get(message.runId);
        if (run) run.status = message;
        break;
      }
      case 'runEnded': {
        const run = this.runs.get(message.runId);
        if (run) {
          run.ended = message;
          run.sequence = sequence;
        }
        break;
      }
      case 'checkReport':
        keep(this.checks, message.file, { report: message, sequence }, this.limits.checkReports);
        break;
      case 'lossSurface':
        keep(this.surfaces, message.problem, { surface: message, sequence }, this.limits.surfaces);
        break;
      case 'criticalPoint':
        this.critical.push({ message, sequence });
        this.critical.splice(0, Math.max(0, this.critical.length - this.limits.criticalPoints));
        break;
      case 'response':
        // Answers to one page's requests: nothing to replay.
        break;
      case 'recordSpans':
        // Made by a channel's outbox from records, for one page; never posted to the channel.
        break;
    }
  }

  /** Everything retained, in the order it last changed (so the webview's "last result" comes out the same). */
  replay(): HostToWebview[] {
    const items: { sequence: number; messages: HostToWebview[] }[] = [
      ...[...this.checks.values()].map(({ report, sequence }) => ({ sequence, messages: [report] })),
      ...[...this.surfaces.values()].map(({ surface, sequence }) => ({ sequence, messages: [surface] })),
      ...[...this.runs.values()].map((run) => ({ sequence: run.sequence, messages: run.replay() })),
      ...this.critical.map(({ message, sequence }) => ({ sequence, messages: [message] })),
    ];
    items.sort((a, b) => a.sequence - b.sequence);
    return [...(this.config ? [this.config] : []), ...items.flatMap((item) => item.messages)];
  }
}
