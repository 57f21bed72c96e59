/**
 * Where each export of a problem file is declared, from its source text
 * alone (no code runs): used to point errors, test items and CodeLens at
 * the export. Lines are 1-based.
 */

function escape(name: string): string {
  return name.replace(/[$]/g, '\\$');
}

/** The 1-based line declaring export `name` in `source`, or null when it cannot be told. */
export function locateExport(source: string, name: string): number | null {
  const listed = listExports(source).find((site) => site.name === name);
  if (listed) return listed.line;
  const lines = source.split(/\r?\n/);
  const id = escape(name);
  const patterns: RegExp[] = name === 'default'
    ? [/^\s*export\s+default\b/, /^\s*module\.exports\s*=/]
    : [
        new RegExp(`^\\s*export\\s+(?:declare\\s+)?(?:const|let|var|class|(?:async\\s+)?function\\*?)\\s+${id}\\b`),
        new RegExp(`^\\s*(?:module\\.)?exports\\.${id}\\s*=`),
        new RegExp(`^\\s*(?:const|let|var|class|(?:async\\s+)?function\\*?)\\s+${id}\\b`),
        new RegExp(`^\\s*${id}\\s*[:(,]`),
        new RegExp(`\\bexport\\s*\\{[^}]*\\b${id}\\b`),
      ];
  for (const pattern of patterns) {
    const index = lines.findIndex((line) => pattern.test(line));
    if (index >= 0) return index + 1;
  }
  return null;
}

export interface ExportSite {
  name: string;
  /** 1-based line of the declaration (or of the export list naming it). */
  line: number;
}

const DECLARED = /^\s*export\s+(?:declare\s+)?(?:const|let|var|class|(?:async\s+)?function\*?)\s+([A-Za-z_$][\w$]*)/;
const ASSIGNED = /^\s*(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=/;
const DEFAULT = /^\s*(?:export\s+default\b|module\.exports\s*=(?!\s*\{))/;
const LIST = /\bexport\s*\{([^}]*)\}(?!\s*from\b)/;
const OBJECT = /^\s*module\.exports\s*=\s*\{([^}]*)\}/;

/**
 * The exports of a module, from its source text alone (no code runs): what
 * the Test Explorer and CodeLens show before a file has been run, and in an
 * untrusted workspace. Which exports really are problems is known only after
 * the sandboxed worker has loaded the file; this list is the candidates.
 */
export function listExports(source: string): ExportSite[] {
  const sites: ExportSite[] = [];
  const seen = new Set<string>();
  const add = (name: string, line: number) => {
    if (name && !seen.has(name)) {
      seen.add(name);
      sites.push({ name, line });
    }
  };
  source.split(/\r?\n/).forEach((text, index) => {
    const line = index + 1;
    const declared = DECLARED.exec(text) ?? ASSIGNED.exec(text);
    if (declared) add(declared[1], line);
    if (DEFAULT.test(text)) add('default', line);
    const list = LIST.exec(text) ?? OBJECT.exec(text);
    if (list) {
      for (const entry of list[1].split(',')) {
        // `a as b` exports b; `a: value` in module.exports = { … } exports a.
        const parts = entry.trim().split(/\s+as\s+|\s*:\s*/);
        const name = (parts.length > 1 && /\bas\b/.test(entry) ? parts[1] : parts[0]).trim();
        if (/^[A-Za-z_$][\w$]*$/.test(name)) add(name, line);
      }
    }
  });
  return sites;
}

const DECLARES_CALLABLE = /^\s*export\s+(?:default\s+)?(?:declare\s+)?(?:class|(?:async\s+)?function)\b/;

/** The exports that may be problems: exported values (a function or class declaration never is one). */
export function problemCandidates(source: string): ExportSite[] {
  const lines = source.split(/\r?\n/);
  return listExports(source).filter((site) => !DECLARES_CALLABLE.test(lines[site.line - 1]));
}

/** What a problem candidate of a Python file looks like from its text. */
export interface PythonCandidate extends ExportSite {
  kind: 'scalar' | 'layer';
  /** It mentions hvp. */
  secondOrder: boolean;
}

const PYTHON_ASSIGNMENT = /^([A-Za-z]\w*)\s*(?::[^=]*)?=(?!=)/;
const PYTHON_FACTORY = /^(?:class|def)\s+([A-Za-z_]\w*)/;
const PYTHON_SCALAR_KEYS = ['params', 'f', 'grad', 'hvp'];
const PYTHON_LAYER_KEYS = ['inputs', 'forward', 'backward'];
/** PyTorch: a Function (`fn`) or a module, with its inputs. */
const PYTHON_TORCH_KEYS = ['fn', 'module'];
/** Course code: a loss that returns its gradient (`loss`, `wrt`), a model with a params dict (`model`); layer pairs have the layer keys. */
const PYTHON_COURSE_KEYS = ['loss', 'wrt', 'model'];
const PYTHON_KEYS = [...PYTHON_SCALAR_KEYS, ...PYTHON_LAYER_KEYS, ...PYTHON_TORCH_KEYS, ...PYTHON_COURSE_KEYS];
/** `**name` in a dict literal: the keys of the module-level dict `name` (`{**affine, "backward": buggy_backward}`). */
const PYTHON_SPREAD = /\*\*\s*([A-Za-z_]\w*)/g;

/** Line indices of a top-level statement starting at `start`: its indented, blank and closing-bracket lines. */
function pythonBlock(lines: string[], start: number): string {
  let end = start + 1;
  while (end < lines.length && (/^\s/.test(lines[end]) || lines[end].trim() === '' || /^[)\]}]/.test(lines[end]))) end++;
  return lines.slice(start, end).join('\n');
}

function mentioned(block: string, keys: string[], asMethods: boolean): Set<string> {
  // Dict keys ("params": ...), keyword arguments (params=...), and for classes methods or attributes (def grad(, self.params).
  return new Set(keys.filter((key) => new RegExp(`["']${key}["']\\s*:|\\b${key}\\s*=(?!=)${asMethods ? `|\\bdef\\s+${key}\\s*\\(|\\bself\\.${key}\\b` : ''}`).test(block)));
}

function classifyText(found: Set<string>): 'scalar' | 'layer' | null {
  // As the runner decides: a Function with its inputs is checked like a layer, a module like a scalar loss,
  // and so are course code's models with their params and losses that return their gradient.
  if (found.has('inputs') && found.has('fn')) return 'layer';
  if (found.has('inputs') && (found.has('module') || found.has('model'))) return 'scalar';
  if (found.has('loss') && (found.has('inputs') || found.has('wrt')) && !found.has('forward') && !found.has('backward')) return 'scalar';
  const scalar = PYTHON_SCALAR_KEYS.filter((key) => found.has(key)).length;
  const layer = PYTHON_LAYER_KEYS.filter((key) => found.has(key)).length;
  // As the runner decides: two of a kind's keys make a problem (a missing one is then its error).
  if (scalar >= 2 && scalar >= layer) return 'scalar';
  if (layer >= 2) return 'layer';
  return null;
}

/**
 * The problems of a Python problem file from its text alone (no code runs):
 * module-level names (not starting with `_`) assigned a dict literal (with
 * the keys of the dicts it spreads, `{**affine, "backward": ...}`), a call
 * with problem keywords, or what a class or function of the file with
 * problem keys or methods makes. The sandbox's list replaces this once the file has been loaded.
 */
export function pythonProblemCandidates(source: string): PythonCandidate[] {
  const lines = source.split(/\r?\n/);
  // Classes and functions of the file whose instances or results may be problems.
  const factories = new Map<string, string>();
  lines.forEach((line, index) => {
    const match = PYTHON_FACTORY.exec(line);
    if (match) factories.set(match[1], pythonBlock(lines, index));
  });
  const candidates: PythonCandidate[] = [];
  const seen = new Set<string>();
  // The keys each module-level name was assigned, for the dicts that spread it.
  const assigned = new Map<string, Set<string>>();
  const torchFile = /^\s*(?:import\s+torch\b|from\s+torch\b)/m.test(source);
  lines.forEach((line, index) => {
    const match = PYTHON_ASSIGNMENT.exec(line);
    if (!match) return;
    const block = pythonBlock(lines, index);
    let found = mentioned(block, PYTHON_KEYS, false);
    for (const [, spread] of block.matchAll(PYTHON_SPREAD)) for (const key of assigned.get(spread) ?? []) found.add(key);
    const call = /=\s*([A-Za-z_]\w*)\s*\(/.exec(line);
    if (classifyText(found) === null && call && factories.has(call[1])) found = mentioned(factories.get(call[1])!, PYTHON_KEYS, true);
    if (!assigned.has(match[1])) assigned.set(match[1], found);
    const kind = classifyText(found);
    if (!kind || seen.has(match[1])) return;
    seen.add(match[1]);
    // Second order: PyTorch Functions and modules by double backward, scalar problems with hvp (a scalar problem of
    // a file that imports torch is taken for a torch one until the interpreter says); course code has none.
    const torchKind = found.has('fn') || found.has('module');
    const courseKind = !torchKind && (found.has('model') || found.has('loss'));
    const secondOrder = torchKind || (kind === 'scalar' && !courseKind && (found.has('hvp') || torchFile));
    candidates.push({ name: match[1], line: index + 1, kind, secondOrder });
  });
  return candidates;
}
