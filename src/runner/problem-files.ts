/**
 * Which files under a folder are problem files: one glob and one list of
 * excluded folders, used by the extension (Test Explorer, CodeLens, Check All,
 * via VS Code's file search) and by `gradlens check DIR` (walked here).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One level of braces: VS Code's file search (ripgrep) rejects nested alternate groups. */
export const DEFAULT_PROBLEM_GLOB = '**/{*.grad.ts,*.grad.mts,*.grad.js,*.grad.mjs,*_grad.py,*.grad.py}';

/**
 * Folders that never hold the workspace's problem files: installed packages and virtual environments
 * (torch ships files named *_grad.py), version control, caches, and build output (compiled copies of
 * *.grad.ts files would be checked twice).
 */
export const EXCLUDED_FOLDERS: readonly string[] = [
  'node_modules', '.git', '.hg', '.svn', '.venv', 'venv', '.tox', '.nox', 'site-packages', 'dist-packages',
  '__pycache__', '.vscode-test', 'out', 'dist', 'build',
];

export const PROBLEM_FILE_EXCLUDE = `**/{${EXCLUDED_FOLDERS.join(',')}}/**`;

const SPECIAL = /[\\^$.|+()[\]{}*?]/g;

/**
 * A glob in VS Code's syntax as a regular expression over '/'-separated relative paths: `**` any
 * folders (`**\/` also none), `*` and `?` within one path segment, `{a,b}` alternatives (nestable),
 * `[abc]` and `[!abc]` character classes.
 */
export function globRegExp(pattern: string): RegExp {
  let source = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '{') {
      depth++;
      source += '(?:';
    } else if (char === '}' && depth > 0) {
      depth--;
      source += ')';
    } else if (char === ',' && depth > 0) source += '|';
    else if (char === '[' && pattern.indexOf(']', i + 2) > i) {
      const end = pattern.indexOf(']', i + 2);
      const body = pattern.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      // A class never matches the separator, negated or not.
      source += `[${negated ? '^/' : ''}${(negated ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else source += char.replace(SPECIAL, '\\$&');
  }
  if (depth > 0) throw new RangeError(`glob pattern ${JSON.stringify(pattern)} has an unclosed '{'`);
  return new RegExp(`^${source}$`);
}

export interface FoundProblemFiles {
  /** The problem files under the folder, each as `path.join(folder, relative path)`, sorted by relative path. */
  files: string[];
  /** Folders that could not be read, with why (permission denied, ...). */
  unreadable: { folder: string; reason: string }[];
}

/**
 * The files under `folder` whose path relative to it matches `pattern`, outside the excluded folders
 * (the exclude glob is matched against relative paths too). Symbolic links are followed, each folder
 * once, as VS Code's search follows them.
 */
export function findProblemFiles(folder: string, pattern = DEFAULT_PROBLEM_GLOB, exclude = PROBLEM_FILE_EXCLUDE): FoundProblemFiles {
  const wanted = globRegExp(pattern);
  const excluded = globRegExp(exclude);
  const found: string[] = [];
  const unreadable: FoundProblemFiles['unreadable'] = [];
  const visited = new Set<string>();
  const pending = [''];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    const absolute = path.join(folder, relative);
    let entries: fs.Dirent[];
    try {
      const real = fs.realpathSync(absolute);
      if (visited.has(real)) continue;
      visited.add(real);
      entries = fs.readdirSync(absolute, { withFileTypes: true });
    } catch (error) {
      unreadable.push({ folder: absolute, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
      continue;
    }
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = fs.statSync(path.join(folder, child));
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // A dangling link.
        }
      }
      if (isDirectory && !excluded.test(`${child}/`)) pending.push(child);
      else if (isFile && wanted.test(child) && !excluded.test(child)) found.push(child);
    }
  }
  found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files: found.map((file) => path.join(folder, file)), unreadable };
}
