/**
 * Compiles a problem file (TS or JS, ESM or CommonJS) and the local modules
 * it imports into one CommonJS script with an inline source map. npm
 * packages stay external and are resolved from the user's file at load time,
 * as if the file were run in place. No user code runs here.
 */
import * as path from 'node:path';
import type { Message } from 'esbuild';
import type { SourceLocation } from '../core/errors';
import { loadEsbuild } from './esbuild-backend';

export const PROBLEM_FILE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

/** The file could not be turned into a module: the cause, and where it is. */
export class LoadError extends Error {
  override name = 'LoadError';
  constructor(
    message: string,
    readonly location: SourceLocation | null,
  ) {
    super(message);
  }
}

/** esbuild's locations are relative to its working directory, `baseDir`. */
function buildLocation(message: Message, baseDir: string): SourceLocation | null {
  const location = message.location;
  return location ? { file: path.resolve(baseDir, location.file), line: location.line, column: location.column + 1 } : null;
}

/**
 * @param apiModule absolute path of GradLens's own runtime helpers, so that
 *   `import { defineProblem } from 'gradlens'` works without installing it.
 */
export interface Bundle {
  code: string;
  /** Absolute paths of the user's files in the bundle: the frames worth pointing at. */
  sources: string[];
}

export async function bundleProblemFile(file: string, apiModule: string): Promise<Bundle> {
  const esbuild = await loadEsbuild();
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: path.dirname(file),
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      packages: 'external',
      alias: { gradlens: apiModule },
      // ESM files may use import.meta.url; in the CommonJS bundle it becomes the file's URL.
      define: { 'import.meta.url': '__gradlensImportMetaUrl' },
      banner: { js: 'var __gradlensImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
      logLevel: 'silent',
      metafile: true,
    });
    const sources = Object.keys(result.metafile.inputs)
      .map((input) => path.resolve(path.dirname(file), input))
      .filter((source) => source !== apiModule);
    return { code: result.outputFiles[0].text, sources };
  } catch (error) {
    const failure = error as { errors?: Message[] };
    const errors = failure.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
      throw new LoadError(`${errors[0].text}${more}`, buildLocation(errors[0], path.dirname(file)));
    }
    throw error;
  }
}
