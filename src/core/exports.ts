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
