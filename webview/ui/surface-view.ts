/**
 * The loss surface of a 2-D problem: a filled map on a log colour scale with
 * level lines (marching squares), the known minima, and the path of each run
 * compared. Clicking (or moving the crosshair with the arrow keys and
 * pressing Enter) restarts from that point.
 */
import type { LossSurface } from '../../src/webview-protocol';
import { Changed } from '../model/dashboard-model';
import type { RunModel } from '../model/run';
import { viridisRgb } from './colormap';
import { type View, type ViewContext, runColor, runLabel, shownRuns } from './context';
import { evenLevels, contourSegments } from './contour';
import { cardHeader, h, replaceChildren } from './dom';
import { formatNumber } from './format';
import { type Palette, withAlpha } from './theme';
import { exportFileName } from '../export';

const MARGIN = { left: 56, right: 14, top: 12, bottom: 38 };
/** The plot keeps x and y at the same scale, within these heights. */
const PLOT_HEIGHT = { min: 160, max: 520 };
const LEVELS = 14;
/** Arrow keys move the crosshair by this fraction of the plot (Shift: five times as far). */
const KEY_STEP = 0.02;

interface PlotFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  surface: LossSurface;
}

export class SurfaceView implements View {
  readonly element: HTMLElement;
  readonly canvas = h('canvas', { class: 'surface-canvas', tabindex: 0 });
  private readonly legend = h('ul', { class: 'surface-legend', 'aria-label': 'Runs on the surface' });
  private readonly note = h('p', { class: 'note' });
  private readonly box = h('div', { class: 'surface-box' }, this.canvas);
  private background: { key: string; image: HTMLCanvasElement } | null = null;
  private frame: PlotFrame | null = null;
  private cursor: [number, number] | null = null;
  private cssSize = { width: 0, height: 0 };

  constructor(private readonly context: ViewContext) {
    this.canvas.setAttribute('aria-label', 'Loss surface. Click a point, or move the crosshair with the arrow keys and press Enter, to restart the run from there.');
    this.element = h(
      'section',
      { class: 'card surface-view', 'aria-label': 'Loss surface' },
      cardHeader('Loss surface', 'the loss surface', () => this.savePng()),
      this.note,
      this.box,
      this.legend,
    );
    new ResizeObserver(() => context.invalidate(Changed.surface)).observe(this.box);
    this.canvas.addEventListener('click', (event) => {
      const point = this.dataAt(event.offsetX, event.offsetY);
      if (point) this.restartFrom(point);
    });
    this.canvas.addEventListener('mousemove', (event) => this.hover(event));
    this.canvas.addEventListener('mouseleave', () => context.tooltip.hide());
    this.canvas.addEventListener('keydown', (event) => this.key(event));
    this.canvas.addEventListener('blur', () => {
      this.cursor = null;
      context.invalidate(Changed.surface);
    });
  }

  /** The surface drawn: the focused run's problem, or the newest surface. */
  get surface(): LossSurface | null {
    const run = this.context.model.focusedRun;
    if (run) return this.context.model.surfaces.get(run.meta.problem) ?? null;
    return [...this.context.model.surfaces.values()].at(-1) ?? null;
  }

  /** Runs drawn on the surface (with their positions kept). */
  get runs(): RunModel[] {
    const surface = this.surface;
    return surface ? shownRuns(this.context).filter((run) => run.trajectory && run.meta.problem === surface.problem) : [];
  }

  render(changed: number): void {
    if (!(changed & (Changed.surface | Changed.runs))) return;
    const surface = this.surface;
    const palette = this.context.palette();
    this.note.textContent = surface
      ? `${surface.problem}: colours and level lines on a log scale of the loss.`
      : 'The loss surface appears for 2-D problems (rosenbrock, beale, himmelblau, saddle, ...).';
    this.box.hidden = surface === null;
    if (!surface) return;
    const aspect = (surface.y[1] - surface.y[0]) / (surface.x[1] - surface.x[0]);
    let plotWidth = (this.box.clientWidth || 480) - MARGIN.left - MARGIN.right;
    let plotHeight = plotWidth * aspect;
    if (plotHeight > PLOT_HEIGHT.max) {
      plotHeight = PLOT_HEIGHT.max;
      plotWidth = plotHeight / aspect;
    }
    plotHeight = Math.max(PLOT_HEIGHT.min, plotHeight);
    const width = Math.round(plotWidth + MARGIN.left + MARGIN.right);
    const height = Math.round(plotHeight + MARGIN.top + MARGIN.bottom);
    this.resize(width, height);
    this.frame = { left: MARGIN.left, top: MARGIN.top, width: width - MARGIN.left - MARGIN.right, height: height - MARGIN.top - MARGIN.bottom, surface };
    const context = this.canvas.getContext('2d')!;
    const ratio = window.devicePixelRatio || 1;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.drawImage(this.backgroundFor(this.frame, palette), 0, 0, width, height);
    for (const run of this.runs) this.drawPath(context, run, runColor(this.context, run), palette);
    if (this.cursor) this.drawCursor(context, this.cursor, palette);
    this.renderLegend();
  }

  /** Points of each run's drawn path (for tests). */
  pathLengths(): { label: string; points: number }[] {
    return this.runs.map((run) => ({ label: runLabel(this.context, run), points: run.trajectory!.length + (run.trajectory!.head ? 1 : 0) }));
  }

  /** Viewport coordinates of a point of the surface (for tests). */
  viewportPoint(x: number, y: number): { x: number; y: number } | null {
    if (!this.frame) return null;
    const [px, py] = this.toPixel(this.frame, x, y);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + px, y: rect.top + py };
  }

  private resize(width: number, height: number): void {
    if (this.cssSize.width === width && this.cssSize.height === height) return;
    const ratio = window.devicePixelRatio || 1;
    this.cssSize = { width, height };
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  private toPixel(frame: PlotFrame, x: number, y: number): [number, number] {
    const { x: [x0, x1], y: [y0, y1] } = frame.surface;
    return [frame.left + ((x - x0) / (x1 - x0)) * frame.width, frame.top + (1 - (y - y0) / (y1 - y0)) * frame.height];
  }

  private dataAt(px: number, py: number): [number, number] | null {
    const frame = this.frame;
    if (!frame) return null;
    const u = (px - frame.left) / frame.width;
    const v = 1 - (py - frame.top) / frame.height;
    if (u < 0 || u > 1 || v < 0 || v > 1) return null;
    const { x: [x0, x1], y: [y0, y1] } = frame.surface;
    return [x0 + u * (x1 - x0), y0 + v * (y1 - y0)];
  }

  /** The filled map, level lines, axes and minima: redrawn only when the surface, size or theme changes. */
  private backgroundFor(frame: PlotFrame, palette: Palette): HTMLCanvasElement {
    const ratio = window.devicePixelRatio || 1;
    const key = [frame.surface.problem, frame.surface.values.length, frame.surface.x, frame.surface.y, this.cssSize.width, this.cssSize.height, ratio, palette.background, palette.foreground].join('|');
    if (this.background?.key === key) return this.background.image;
    const image = document.createElement('canvas');
    image.width = this.canvas.width;
    image.height = this.canvas.height;
    const context = image.getContext('2d')!;
    context.scale(ratio, ratio);
    context.fillStyle = palette.background;
    context.fillRect(0, 0, this.cssSize.width, this.cssSize.height);
    const { nx, ny, values } = frame.surface;
    const logValues = logLoss(values);
    const [low, high] = finiteRange(logValues);
    // The map at grid resolution, then scaled up smoothly into the plot area.
    const grid = document.createElement('canvas');
    grid.width = nx;
    grid.height = ny;
    const pixels = grid.getContext('2d')!.createImageData(nx, ny);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [r, g, b] = viridisRgb((logValues[j * nx + i] - low) / (high - low || 1));
        const offset = ((ny - 1 - j) * nx + i) * 4;
        pixels.data.set([r, g, b, 255], offset);
      }
    }
    grid.getContext('2d')!.putImageData(pixels, 0, 0);
    context.imageSmoothingEnabled = true;
    context.globalAlpha = 0.85;
    context.drawImage(grid, frame.left, frame.top, frame.width, frame.height);
    context.globalAlpha = 1;
    context.strokeStyle = withAlpha(palette.background, 0.55);
    context.lineWidth = 1;
    context.beginPath();
    const gridToPixel = (i: number, j: number): [number, number] => [frame.left + (i / (nx - 1)) * frame.width, frame.top + (1 - j / (ny - 1)) * frame.height];
    for (const level of evenLevels(low, high, LEVELS)) {
      const segments = contourSegments(logValues, nx, ny, level);
      for (let k = 0; k < segments.length; k += 4) {
        context.moveTo(...gridToPixel(segments[k], segments[k + 1]));
        context.lineTo(...gridToPixel(segments[k + 2], segments[k + 3]));
      }
    }
    context.stroke();
    this.drawAxes(context, frame, palette);
    for (const [x, y] of frame.surface.minima) this.drawMinimum(context, this.toPixel(frame, x, y), palette);
    this.background = { key, image };
    return image;
  }

  private drawAxes(context: CanvasRenderingContext2D, frame: PlotFrame, palette: Palette): void {
    context.strokeStyle = palette.grid;
    context.strokeRect(frame.left, frame.top, frame.width, frame.height);
    context.fillStyle = palette.foreground;
    context.font = `${Math.max(11, palette.fontSize - 1)}px ${palette.fontFamily}`;
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const x of niceTicks(frame.surface.x[0], frame.surface.x[1])) {
      const [px] = this.toPixel(frame, x, frame.surface.y[0]);
      context.fillText(formatNumber(x), px, frame.top + frame.height + 6);
    }
    context.fillText('x', frame.left + frame.width / 2, frame.top + frame.height + 22);
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (const y of niceTicks(frame.surface.y[0], frame.surface.y[1])) {
      const [, py] = this.toPixel(frame, frame.surface.x[0], y);
      context.fillText(formatNumber(y), frame.left - 8, py);
    }
    context.fillText('y', frame.left - 38, frame.top + frame.height / 2);
  }

  private drawMinimum(context: CanvasRenderingContext2D, [px, py]: [number, number], palette: Palette): void {
    context.save();
    context.lineWidth = 3;
    context.strokeStyle = palette.background;
    const cross = () => {
      context.beginPath();
      context.moveTo(px - 6, py - 6);
      context.lineTo(px + 6, py + 6);
      context.moveTo(px + 6, py - 6);
      context.lineTo(px - 6, py + 6);
      context.stroke();
    };
    cross();
    context.lineWidth = 1.5;
    context.strokeStyle = palette.foreground;
    cross();
    context.restore();
  }

  private drawPath(context: CanvasRenderingContext2D, run: RunModel, color: string, palette: Palette): void {
    const trajectory = run.trajectory!;
    const frame = this.frame!;
    if (trajectory.length === 0) return;
    context.save();
    context.lineJoin = 'round';
    const trace = () => {
      context.beginPath();
      context.moveTo(...this.toPixel(frame, trajectory.x(0), trajectory.y(0)));
      for (let i = 1; i < trajectory.length; i++) context.lineTo(...this.toPixel(frame, trajectory.x(i), trajectory.y(i)));
      if (trajectory.head) context.lineTo(...this.toPixel(frame, trajectory.head[0], trajectory.head[1]));
      context.stroke();
    };
    // A halo in the background colour keeps the path readable on any part of the map.
    context.strokeStyle = withAlpha(palette.background, 0.8);
    context.lineWidth = 4;
    trace();
    context.strokeStyle = color;
    context.lineWidth = 2;
    trace();
    const [sx, sy] = this.toPixel(frame, trajectory.x(0), trajectory.y(0));
    context.lineWidth = 2;
    context.fillStyle = palette.background;
    context.beginPath();
    context.arc(sx, sy, 4.5, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
    const head = trajectory.head ?? [trajectory.x(trajectory.length - 1), trajectory.y(trajectory.length - 1)];
    const [hx, hy] = this.toPixel(frame, head[0], head[1]);
    context.fillStyle = color;
    context.strokeStyle = palette.background;
    context.beginPath();
    context.arc(hx, hy, 5, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
    context.restore();
  }

  private drawCursor(context: CanvasRenderingContext2D, [x, y]: [number, number], palette: Palette): void {
    const frame = this.frame!;
    const [px, py] = this.toPixel(frame, x, y);
    context.save();
    context.strokeStyle = palette.focus;
    context.lineWidth = 1.5;
    context.setLineDash([3, 3]);
    context.beginPath();
    context.moveTo(frame.left, py);
    context.lineTo(frame.left + frame.width, py);
    context.moveTo(px, frame.top);
    context.lineTo(px, frame.top + frame.height);
    context.stroke();
    context.restore();
  }

  private renderLegend(): void {
    replaceChildren(
      this.legend,
      ...this.runs.map((run) => {
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = runColor(this.context, run);
        const head = run.trajectory!.head;
        const where = head ? ` at (${formatNumber(head[0])}, ${formatNumber(head[1])}), step ${run.lastStep}` : '';
        return h('li', { class: 'legend-item' }, swatch, runLabel(this.context, run), h('span', { class: 'muted' }, where));
      }),
    );
  }

  private hover(event: MouseEvent): void {
    const point = this.dataAt(event.offsetX, event.offsetY);
    const surface = this.surface;
    if (!point || !surface) {
      this.context.tooltip.hide();
      return;
    }
    this.context.tooltip.show(
      [`(${formatNumber(point[0])}, ${formatNumber(point[1])})`, `loss ≈ ${formatNumber(interpolate(surface, point))}`, 'click: restart from here'],
      event.clientX,
      event.clientY,
    );
  }

  private key(event: KeyboardEvent): void {
    const surface = this.surface;
    if (!surface) return;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (event.key in moves) {
      event.preventDefault();
      const [dx, dy] = moves[event.key];
      const factor = (event.shiftKey ? 5 : 1) * KEY_STEP;
      const start = this.cursor ?? this.context.model.focusedRun?.meta.start ?? [(surface.x[0] + surface.x[1]) / 2, (surface.y[0] + surface.y[1]) / 2];
      const clamp = (value: number, [low, high]: [number, number]) => Math.min(high, Math.max(low, value));
      this.cursor = [clamp(start[0] + dx * factor * (surface.x[1] - surface.x[0]), surface.x), clamp(start[1] + dy * factor * (surface.y[1] - surface.y[0]), surface.y)];
      this.context.announce(`(${formatNumber(this.cursor[0])}, ${formatNumber(this.cursor[1])}), loss ≈ ${formatNumber(interpolate(surface, this.cursor))}`);
      this.context.invalidate(Changed.surface);
    } else if ((event.key === 'Enter' || event.key === ' ') && this.cursor) {
      event.preventDefault();
      this.restartFrom(this.cursor);
    } else if (event.key === 'Escape' && this.cursor) {
      this.cursor = null;
      this.context.invalidate(Changed.surface);
    }
  }

  private restartFrom(point: [number, number]): void {
    const run = this.context.model.focusedRun;
    if (!run || !run.meta.twoDimensional) {
      this.context.announce('Start a run on this problem first.', 'error');
      return;
    }
    this.context.announce(`Restarting from (${formatNumber(point[0])}, ${formatNumber(point[1])})…`);
    void this.context.host.request({ type: 'restartFrom', runId: run.meta.runId, start: point }).then((response) => {
      if (response.error) this.context.announce(`Could not restart: ${response.error}`, 'error');
    });
  }

  private savePng(): void {
    if (!this.surface) return;
    this.context.savePng(exportFileName([this.surface.problem, 'surface'], 'png'), this.canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, ''));
  }
}

/** log10 of the loss above its minimum (plus a little, so the minimum itself is finite). */
function logLoss(values: readonly number[]): Float64Array {
  const [low, high] = finiteRange(values);
  const floor = Math.max((high - low) * 1e-6, Number.MIN_VALUE);
  return Float64Array.from(values, (value) => (Number.isFinite(value) ? Math.log10(value - low + floor) : NaN));
}

function finiteRange(values: ArrayLike<number>): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}

/** The loss at a point, bilinear between the grid's values. */
function interpolate(surface: LossSurface, [x, y]: [number, number]): number {
  const u = ((x - surface.x[0]) / (surface.x[1] - surface.x[0])) * (surface.nx - 1);
  const v = ((y - surface.y[0]) / (surface.y[1] - surface.y[0])) * (surface.ny - 1);
  const i = Math.min(surface.nx - 2, Math.max(0, Math.floor(u)));
  const j = Math.min(surface.ny - 2, Math.max(0, Math.floor(v)));
  const fu = u - i;
  const fv = v - j;
  const at = (di: number, dj: number) => surface.values[(j + dj) * surface.nx + i + di];
  return (1 - fv) * ((1 - fu) * at(0, 0) + fu * at(1, 0)) + fv * ((1 - fu) * at(0, 1) + fu * at(1, 1));
}

/** About five round tick values in [low, high] (1, 2 or 5 times a power of ten apart). */
function niceTicks(low: number, high: number): number[] {
  const rough = (high - low) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? rough;
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}
