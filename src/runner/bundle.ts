/**
 * Compiles a problem file (TS or JS, ESM or CommonJS) and the local modules
 * it imports into one CommonJS script with an inline source map. npm
 * packages stay external and are resolved from the user's file at load time,
 * as if the file were run in place. No user code runs here.
 */
import * as path from 'node:path';
import type { Message } from 'esbuild';
import { formatLocation } from './stack';

export const PROBLEM_FILE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

/** The file could not be turned into a module: the message names file, line and cause. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** esbuild's locations are relative to its working directory, `baseDir`. */
function formatBuildMessage(message: Message, baseDir: string, cwd: string): string {
  const location = message.location;
  if (!location) return message.text;
  const file = path.resolve(baseDir, location.file);
  return `${formatLocation({ file, line: location.line, column: location.column + 1 }, cwd)}: ${message.text}`;
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

export async function bundleProblemFile(file: string, apiModule: string, cwd = process.cwd()): Promise<Bundle> {
  const esbuild = await import('esbuild');
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
    if (Array.isArray(failure.errors) && failure.errors.length > 0) {
      throw new LoadError(failure.errors.map((message) => formatBuildMessage(message, path.dirname(file), cwd)).join('\n'));
    }
    throw error;
  }
}
