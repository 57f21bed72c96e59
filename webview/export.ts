/**
 * Telemetry exports: CSV of a run and JSON of the runs drawn together, from
 * the dashboard's table. Up to TABLE_CAPACITY records a row is one record;
 * beyond, a row summarizes `recordsPerRow` consecutive records (mean, min
 * and max of each metric), which the JSON states and the CSV header shows.
 */
import { csvHeader, csvRow } from '../src/dashboard-table';
import type { RunModel } from './model/run';

export interface TelemetryRows {
  recordsPerRow: number;
  header: string[];
  rows: number[][];
}

export function telemetryRows(run: RunModel): TelemetryRows {
  const table = run.table;
  const summarized = table.span > 1;
  const header = summarized ? ['step_first', 'step_last', 'seconds', 'records'] : ['step', 'seconds'];
  for (const name of table.names) header.push(...(summarized ? [`${name}_mean`, `${name}_min`, `${name}_max`] : [name]));
  const rows: number[][] = [];
  for (let i = 0; i < table.length; i++) {
    const records = i === table.length - 1 ? table.lastCount : table.span;
    const row = summarized ? [table.stepStart[i], table.stepEnd[i], table.timeStart[i], records] : [table.stepStart[i], table.timeStart[i]];
    for (const name of table.names) row.push(...(summarized ? [table.mean(name, i), table.min(name, i), table.max(name, i)] : [table.mean(name, i)]));
    rows.push(row);
  }
  return { recordsPerRow: table.span, header, rows };
}

export function telemetryCsv(run: RunModel): string {
  const { header, rows } = telemetryRows(run);
  const lines = [csvHeader(header)];
  for (const row of rows) lines.push(csvRow(row));
  return `${lines.join('\n')}\n`;
}

export function telemetryJson(runs: RunModel[]): string {
  const exported = runs.map((run) => {
    const { recordsPerRow, header, rows } = telemetryRows(run);
    return {
      run: run.meta,
      ended: run.ended,
      hyperparameterChanges: run.markers,
      recordsPerRow,
      // JSON has no NaN: a missing value is null.
      columns: header,
      rows: rows.map((row) => row.map((value) => (Number.isFinite(value) ? value : null))),
    };
  });
  return `${JSON.stringify({ format: 'gradlens-telemetry', version: 1, runs: exported }, null, 1)}\n`;
}

/** `gradlens-adam-rosenbrock.csv`: a safe file name for the save dialog. */
export function exportFileName(parts: string[], extension: string): string {
  const stem = ['gradlens', ...parts].join('-').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  return `${stem}.${extension}`;
}
