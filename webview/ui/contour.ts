/**
 * Level lines of a grid by marching squares (Lorensen & Cline's idea on a
 * 2-D grid): each cell's corners above or below the level pick which edges
 * the line crosses, the crossing points are interpolated linearly, and the
 * two ambiguous saddle cases are decided by the cell's mean.
 */

/** Segments as x1, y1, x2, y2 in grid coordinates (i along x, j along y). */
export function contourSegments(values: ArrayLike<number>, nx: number, ny: number, level: number): number[] {
  const segments: number[] = [];
  const at = (i: number, j: number) => values[j * nx + i];
  for (let j = 0; j + 1 < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const v00 = at(i, j);
      const v10 = at(i + 1, j);
      const v11 = at(i + 1, j + 1);
      const v01 = at(i, j + 1);
      if (!(Number.isFinite(v00) && Number.isFinite(v10) && Number.isFinite(v11) && Number.isFinite(v01))) continue;
      const code = (v00 >= level ? 1 : 0) | (v10 >= level ? 2 : 0) | (v11 >= level ? 4 : 0) | (v01 >= level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      const cross = (a: number, b: number) => (a === b ? 0.5 : (level - a) / (b - a));
      // The four edge crossings: bottom (j), right (i+1), top (j+1), left (i).
      const bottom = () => [i + cross(v00, v10), j];
      const right = () => [i + 1, j + cross(v10, v11)];
      const top = () => [i + cross(v01, v11), j + 1];
      const left = () => [i, j + cross(v00, v01)];
      const add = (a: number[], b: number[]) => segments.push(a[0], a[1], b[0], b[1]);
      const centreAbove = (v00 + v10 + v11 + v01) / 4 >= level;
      switch (code) {
        case 1: case 14: add(left(), bottom()); break;
        case 2: case 13: add(bottom(), right()); break;
        case 3: case 12: add(left(), right()); break;
        case 4: case 11: add(right(), top()); break;
        case 6: case 9: add(bottom(), top()); break;
        case 7: case 8: add(left(), top()); break;
        case 5:
          if (centreAbove) { add(left(), top()); add(bottom(), right()); } else { add(left(), bottom()); add(right(), top()); }
          break;
        case 10:
          if (centreAbove) { add(left(), bottom()); add(right(), top()); } else { add(left(), top()); add(bottom(), right()); }
          break;
      }
    }
  }
  return segments;
}

/** `count` levels evenly spaced strictly inside (low, high). */
export function evenLevels(low: number, high: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => low + ((k + 1) / (count + 1)) * (high - low));
}
