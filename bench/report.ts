/** Statistics and markdown formatting shared by the benchmarks. */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 1000) return Math.round(ms).toLocaleString('en-US');
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 0.1) return ms.toFixed(2);
  return ms.toFixed(4);
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 100) return ratio.toFixed(0);
  if (ratio >= 0.01) return ratio.toFixed(3);
  return ratio.toExponential(2);
}

/** A markdown table with its columns padded; `align` per column, right for numbers. */
export function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length), 3));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (align[column] === 'r' ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (align[column] === 'r' ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A benchmark's flags: positive integers (`--reps 3`), texts (`--python PATH`) and switches (`--quick`), with their help. */
export type BenchFlags = Record<string, { value: number | string | boolean; help: string }>;

/**
 * The values of `flags` given in `argv` (the defaults otherwise); `--help` prints the usage and exits 0, a
 * bad argument names itself and exits 2. `bench` is the npm script's name (`bench:jobs`).
 */
export function parseBenchArgs<F extends BenchFlags>(bench: string, argv: string[], flags: F): { [K in keyof F]: F[K]['value'] } {
  const values = Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flag.value])) as Record<string, number | string | boolean>;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    const flag = Object.hasOwn(flags, name) ? flags[name] : undefined;
    const next = argv[k + 1];
    if (arg === '--help' || arg === '-h') {
      const lines = Object.entries(flags).map(([flagName, { value, help }]) => {
        const shown = typeof value === 'number' ? `--${flagName} N` : typeof value === 'string' ? `--${flagName} ${flagName.toUpperCase()}` : `--${flagName}`;
        return `  ${shown.padEnd(18)}${help}${typeof value === 'boolean' ? '' : ` (default ${value})`}`;
      });
      process.stdout.write(`Usage: npm run ${bench} -- [options]\n${lines.join('\n')}\n`);
      process.exit(0);
    } else if (flag && typeof flag.value === 'boolean') values[name] = true;
    else if (flag && typeof flag.value === 'number' && Number.isInteger(Number(next)) && Number(next) > 0) values[name] = Number(argv[++k]);
    else if (flag && typeof flag.value === 'string' && next !== undefined && next !== '') values[name] = argv[++k];
    else {
      const expected = flag ? (typeof flag.value === 'number' ? ' (a positive integer)' : ' (a value)') : '';
      process.stderr.write(`${bench}: bad argument ${arg}${expected} (try --help)\n`);
      process.exit(2);
    }
  }
  return values as { [K in keyof F]: F[K]['value'] };
}
