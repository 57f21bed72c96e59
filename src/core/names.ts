/** Names the user mistyped: the closest existing one, and a message that lists what exists. */

/**
 * Edit distance with adjacent transpositions (optimal string alignment: insertions, deletions,
 * substitutions and swaps of two neighbours cost 1 each; Damerau, CACM 7(3), 1964).
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const distance: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(distance[i - 1][j] + 1, distance[i][j - 1] + 1, distance[i - 1][j - 1] + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, distance[i - 2][j - 2] + 1);
      distance[i][j] = best;
    }
  }
  return distance[a.length][b.length];
}

/**
 * The candidate `name` most likely mistypes: the fewest edits, ignoring case, if at most a third of
 * the name's letters (at least one, and never all) are edited; ties go to the earlier candidate. Null
 * when none is close.
 */
export function closestName(name: string, candidates: readonly string[]): string | null {
  const allowed = Math.max(1, Math.floor(name.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= allowed && distance < name.length && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Problems a message lists before it says how many more there are. */
const LISTED = 12;

/**
 * `no problem named 'afine' in layers_grad.py; its problems: affine, relu (did you mean affine?)`:
 * `files` are where it was looked for (more than three are counted), `problems` what they have.
 */
export function unknownProblemMessage(name: string, files: readonly string[], problems: readonly string[]): string {
  const available = [...new Set(problems)];
  const several = files.length > 1;
  const where = `no problem named '${name}' in ${files.length > 3 ? `${files.length} files` : files.join(', ')}`;
  if (available.length === 0) return `${where}; ${several ? 'they have' : 'it has'} no problems`;
  const listed = available.slice(0, LISTED).join(', ') + (available.length > LISTED ? `, ... (${available.length - LISTED} more)` : '');
  const suggestion = closestName(name, available);
  return `${where}; ${several ? 'their' : 'its'} problems: ${listed}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
}
