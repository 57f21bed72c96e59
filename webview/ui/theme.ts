/**
 * Colours come from VS Code's theme variables (light, dark, high contrast);
 * VS Code flips the body class (vscode-light / vscode-dark /
 * vscode-high-contrast) when the theme changes, and every view recolours.
 */
export interface Palette {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  focus: string;
  red: string;
  green: string;
  yellow: string;
  orange: string;
  blue: string;
  purple: string;
  /** Runs and tensors, in order. */
  series: string[];
  fontFamily: string;
  fontSize: number;
}

function variable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const dark = !document.body.classList.contains('vscode-light');
  const get = (name: string, light: string, darkFallback: string) => variable(style, name, dark ? darkFallback : light);
  const red = get('--vscode-charts-red', '#e51400', '#f14c4c');
  const green = get('--vscode-charts-green', '#388a34', '#89d185');
  const yellow = get('--vscode-charts-yellow', '#bf8803', '#cca700');
  const orange = get('--vscode-charts-orange', '#d18616', '#d18616');
  const blue = get('--vscode-charts-blue', '#1a85ff', '#3794ff');
  const purple = get('--vscode-charts-purple', '#652d90', '#b180d7');
  const foreground = get('--vscode-editor-foreground', '#333333', '#cccccc');
  return {
    foreground,
    muted: get('--vscode-descriptionForeground', '#717171', '#9d9d9d'),
    background: get('--vscode-editor-background', '#ffffff', '#1e1e1e'),
    grid: get('--vscode-charts-lines', 'rgba(128,128,128,0.35)', 'rgba(128,128,128,0.35)'),
    focus: get('--vscode-focusBorder', '#0090f1', '#007fd4'),
    red,
    green,
    yellow,
    orange,
    blue,
    purple,
    series: [blue, orange, green, purple, red, yellow, foreground],
    fontFamily: variable(style, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Number.parseFloat(variable(style, '--vscode-font-size', '13')) || 13,
  };
}

/** Calls `onChange` with the new palette whenever VS Code changes the body's theme class. */
export function watchTheme(onChange: (palette: Palette) => void): MutationObserver {
  let current = document.body.className;
  const observer = new MutationObserver(() => {
    if (document.body.className === current) return;
    current = document.body.className;
    onChange(readPalette());
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return observer;
}

const colorParser = document.createElement('canvas').getContext('2d')!;
const translucent = new Map<string, string>();

/** `color` (any CSS colour) at the given opacity, as rgba() that canvas and Chart.js understand. */
export function withAlpha(color: string, alpha: number): string {
  const key = `${color}|${alpha}`;
  const known = translucent.get(key);
  if (known) return known;
  colorParser.fillStyle = '#000000';
  colorParser.fillStyle = color;
  // The context normalizes colours to #rrggbb, or rgba(r, g, b, a) when not opaque.
  const resolved = String(colorParser.fillStyle);
  const channels = resolved.startsWith('#')
    ? [1, 3, 5].map((i) => Number.parseInt(resolved.slice(i, i + 2), 16)).concat(1)
    : (resolved.match(/[\d.]+/g) ?? ['0', '0', '0', '1']).map(Number);
  const [r, g, b, a = 1] = channels;
  const result = `rgba(${r}, ${g}, ${b}, ${+(a * alpha).toFixed(3)})`;
  translucent.set(key, result);
  return result;
}
