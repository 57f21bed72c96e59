/**
 * Every record of the dashboard's runs, kept on disk so a chart zoomed into
 * any range can be drawn at full resolution (requestRecords): the dashboard
 * itself keeps a bounded, merged table. A record is one row of float64s,
 * [step, seconds, ...its chart columns (runColumns)], appended to one
 * file per run; steps only grow, so a range is found by binary search on
 * the file; **All records** writes them out as CSV. The most recent runs are
 * kept (as many as the dashboard retains); the files go when their runs are
 * dropped and on dispose.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Extractor, csvHeader, csvRow, runColumns } from '../dashboard-table';
import { type HostToWebview, RECORD_RANGE_LIMIT, type RecordRangeBody } from '../webview-protocol';

/** Rows buffered in memory before they are written. */
const BUFFER_ROWS = 1024;
/** Rows read at a time when every record is written out as CSV: memory stays bounded whatever the run's length. */
const CSV_BLOCK_ROWS = 4096;

class RunLog {
  private readonly fd: number;
  private readonly width: number;
  private readonly buffer: Float64Array;
  private buffered = 0;
  /** Rows written to the file. */
  private written = 0;
  private lastStep = -Infinity;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly columns: [string, Extractor][],
  ) {
    this.fd = fs.openSync(file, 'w+');
    this.width = 2 + columns.length;
    this.buffer = new Float64Array(BUFFER_ROWS * this.width);
  }

  get rows(): number {
    return this.written + this.buffered;
  }

  append(message: Extract<HostToWebview, { type: 'records' }>): void {
    message.records.forEach((record, k) => {
      if (record.step <= this.lastStep) return; // a replay
      this.lastStep = record.step;
      const row = this.buffered * this.width;
      this.buffer[row] = record.step;
      this.buffer[row + 1] = message.seconds[k] ?? NaN;
      for (let c = 0; c < this.columns.length; c++) this.buffer[row + 2 + c] = this.columns[c][1](record);
      if (++this.buffered === BUFFER_ROWS) this.flush();
    });
  }

  private flush(): void {
    if (this.buffered === 0) return;
    const bytes = new Uint8Array(this.buffer.buffer, 0, this.buffered * this.width * 8);
    fs.writeSync(this.fd, bytes, 0, bytes.length, this.written * this.width * 8);
    this.written += this.buffered;
    this.buffered = 0;
  }

  private read(first: number, count: number): Float64Array {
    const rows = new Float64Array(count * this.width);
    fs.readSync(this.fd, new Uint8Array(rows.buffer), 0, rows.byteLength, first * this.width * 8);
    return rows;
  }

  private stepAt(row: number): number {
    return this.read(row, 1)[0];
  }

  /** The first row whose step is ≥ step (rows when none). */
  private lowerBound(step: number): number {
    let low = 0;
    let high = this.written;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.stepAt(middle) < step) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  range(runId: string, fromStep: number, toStep: number): RecordRangeBody {
    this.flush();
    const first = this.lowerBound(fromStep);
    const end = this.lowerBound(toStep + 1);
    const count = end - first;
    if (count > RECORD_RANGE_LIMIT) throw new Error(`steps ${fromStep}–${toStep} of ${runId} hold ${count} records, more than ${RECORD_RANGE_LIMIT} at once`);
    const rows = this.read(first, count);
    const column = (c: number) => Array.from({ length: count }, (_, k) => rows[k * this.width + c]);
    const orNull = (value: number) => (Number.isNaN(value) ? null : value);
    return {
      kind: 'recordRange',
      runId,
      fromStep,
      toStep,
      columns: this.columns.map(([name]) => name),
      steps: column(0),
      seconds: column(1),
      values: this.columns.map((_, c) => column(2 + c).map(orNull)),
    };
  }

  /**
   * Every record so far as CSV in `target`, the header and number format of the page's own CSV export
   * (step, seconds, the run's columns; no value: an empty field), a block of rows at a time: memory stays
   * bounded, and the extension host gets a turn between blocks. Returns the records written.
   */
  async writeCsv(target: string): Promise<number> {
    this.flush();
    const rows = this.written;
    const out = await fs.promises.open(target, 'w');
    try {
      await out.write(`${csvHeader(['step', 'seconds', ...this.columns.map(([name]) => name)])}\n`);
      for (let first = 0; first < rows; first += CSV_BLOCK_ROWS) {
        if (this.closed) throw new Error('the run was dropped from the dashboard while its records were written');
        const count = Math.min(CSV_BLOCK_ROWS, rows - first);
        const block = this.read(first, count);
        const lines: string[] = [];
        for (let k = 0; k < count; k++) lines.push(csvRow(block.subarray(k * this.width, (k + 1) * this.width)));
        await out.write(`${lines.join('\n')}\n`);
      }
    } catch (error) {
      // No half-written file is left behind.
      await out.close();
      await fs.promises.rm(target, { force: true });
      throw error;
    }
    await out.close();
    return rows;
  }

  close(): void {
    this.closed = true;
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
  }
}

export class RecordLogs {
  private directory: string | null = null;
  private opened = 0;
  /** Oldest first. */
  private readonly runs = new Map<string, RunLog>();

  /** `keep`: runs kept (the dashboard's retention). */
  constructor(private readonly keep: number) {}

  /** Follows what the dashboard is sent: a run's start opens its log, its records go in. */
  observe(message: HostToWebview): void {
    if (message.type === 'runStarted' && !this.runs.has(message.runId)) {
      this.directory ??= fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-records-'));
      this.runs.set(message.runId, new RunLog(path.join(this.directory, `${this.opened++}-${message.runId.replace(/[^\w.-]/g, '_')}.f64`), runColumns(message)));
      while (this.runs.size > this.keep) {
        const [oldest, log] = this.runs.entries().next().value!;
        log.close();
        this.runs.delete(oldest);
      }
    } else if (message.type === 'records') {
      this.runs.get(message.runId)?.append(message);
    }
  }

  /** Every record of a run from `fromStep` to `toStep`; throws when the run is not kept or the range holds too many. */
  range(runId: string, fromStep: number, toStep: number): RecordRangeBody {
    return this.kept(runId).range(runId, fromStep, toStep);
  }

  /** Every record of a run as CSV in `target` (RunLog.writeCsv); throws when the run is not kept. */
  writeCsv(runId: string, target: string): Promise<number> {
    return this.kept(runId).writeCsv(target);
  }

  private kept(runId: string): RunLog {
    const log = this.runs.get(runId);
    if (!log) throw new Error(`the records of ${runId} are no longer kept (the ${this.keep} latest runs are)`);
    return log;
  }

  dispose(): void {
    for (const log of this.runs.values()) log.close();
    this.runs.clear();
    if (this.directory) fs.rmSync(this.directory, { recursive: true, force: true });
    this.directory = null;
  }
}
