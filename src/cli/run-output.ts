/**
 * `optimize | compare --json | --jsonl | --csv`, written as the runs go: a
 * record leaves as soon as the runner sends it and is not kept, so a run of a
 * million steps prints in constant memory.
 *
 *  --json   one JSON document, as it always read: for `optimize` the run's
 *           fields at the top (`source`, `optimizer`, `hyperparameters`,
 *           `steps`: [...], `final`, ..., `error`), for `compare` the runs in
 *           `runs`; written in pieces, records one a line inside `steps`.
 *  --jsonl  one object a line: `{"type": "run", ...}` when a run starts,
 *           `{"type": "record", "run", ...}` per record, `{"type": "end",
 *           "run", ...}` when it ends, and `{"type": "done", "error"}` last.
 *  --csv    the header, then a row per record.
 */
import type { ErrorReport } from '../core/errors';
import type { Hyperparameters } from '../core/optim/optimizer';
import type { StepRecord, TrainResult } from '../core/optim/train';
import type { NamedShape } from '../core/tensor';
import { CLI_SETTINGS, errorText } from '../report/errors';
import { CSV_HEADER, csvRow, recordJson, runEndJson } from '../report/runs';

export type StreamedOutput = 'json' | 'jsonl' | 'csv';

export interface RunStreamSetup {
  output: StreamedOutput;
  command: 'optimize' | 'compare';
  source: string;
  tolerance: number | null;
  hyperparameters: (run: string) => Hyperparameters;
  write: (text: string) => void;
}

export class RunStream {
  private started = false;
  private runOpen = false;
  private firstRecord = true;
  private runsWritten = 0;
  private readonly layouts = new Map<string, NamedShape[]>();

  constructor(private readonly setup: RunStreamSetup) {}

  private get single(): boolean {
    return this.setup.command === 'optimize';
  }

  runStarted(run: string, tensors: NamedShape[]): void {
    this.layouts.set(run, tensors);
    const { output, write, source } = this.setup;
    const hyperparameters = this.setup.hyperparameters(run);
    if (output === 'jsonl') {
      write(`${JSON.stringify({ type: 'run', source, run, optimizer: run, hyperparameters, layout: tensors })}\n`);
      return;
    }
    if (output === 'csv') {
      if (!this.started) write(`${CSV_HEADER}\n`);
      this.started = true;
      return;
    }
    const fields = `"optimizer": ${JSON.stringify(run)},\n  "hyperparameters": ${JSON.stringify(hyperparameters)},\n  "steps": [`;
    if (this.single) write(`{\n  "source": ${JSON.stringify(source)},\n  ${fields}\n`);
    else {
      if (!this.started) write(`{\n  "source": ${JSON.stringify(source)},\n  "tolerance": ${JSON.stringify(this.setup.tolerance)},\n  "runs": [\n`);
      write(`${this.runsWritten > 0 ? ',\n' : ''}  {\n  ${fields}\n`);
    }
    this.started = true;
    this.runOpen = true;
    this.firstRecord = true;
  }

  records(run: string, records: StepRecord[]): void {
    const layout = this.layouts.get(run) ?? [];
    const { output, write } = this.setup;
    let text = '';
    for (const record of records) {
      if (output === 'csv') text += `${csvRow(run, record)}\n`;
      else if (output === 'jsonl') text += `${JSON.stringify({ type: 'record', run, ...recordJson(record, layout) })}\n`;
      else {
        text += `${this.firstRecord ? '' : ',\n'}    ${JSON.stringify(recordJson(record, layout))}`;
        this.firstRecord = false;
      }
    }
    if (text) write(text);
  }

  trained(result: TrainResult): void {
    const { output, write } = this.setup;
    if (output === 'csv') return;
    const end = runEndJson(result, CLI_SETTINGS);
    if (output === 'jsonl') {
      write(`${JSON.stringify({ type: 'end', run: result.optimizer, ...end })}\n`);
      return;
    }
    write(`${this.firstRecord ? '' : '\n'}  ],\n${this.fieldsOf(end)}`);
    this.runOpen = false;
    this.runsWritten++;
    if (!this.single) write('\n  }');
  }

  /** The end of the output: the error (if any) and whatever is still open. */
  finish(error: ErrorReport | null): void {
    const { output, write, source } = this.setup;
    const message = error ? errorText(error, CLI_SETTINGS) : null;
    if (output === 'csv') return;
    if (output === 'jsonl') {
      write(`${JSON.stringify({ type: 'done', source, error: message })}\n`);
      return;
    }
    if (!this.started) {
      // Nothing ran: the document as it always read then.
      write(`${JSON.stringify({ source, tolerance: this.setup.tolerance, runs: [], error: message }, null, 2)}\n`);
      return;
    }
    if (this.runOpen) {
      // The runner was stopped in the middle of a run: its records so far, and no end.
      write(`${this.firstRecord ? '' : '\n'}  ],\n  "final": null,\n  "stopped": null`);
      if (!this.single) write('\n  }');
    }
    write(this.single ? `,\n  "error": ${JSON.stringify(message)}\n}\n` : `\n  ],\n  "error": ${JSON.stringify(message)}\n}\n`);
  }

  private fieldsOf(values: object): string {
    return Object.entries(values).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n');
  }
}
