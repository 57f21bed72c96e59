// `npm run package`: the vsix for this machine's platform, gradlens-<version>.vsix (what `npm start` and the
// host tests install). `npm run package:all`: one vsix per VS Code platform target in vsix/, each with only
// its own esbuild binary (fetched from the npm registry at the version of the esbuild dependency, cached in
// node_modules/.cache/), and a universal one with esbuild-wasm instead.
//
//   node scripts/package.mjs [--all | --target T ... | --universal] [--out DIR] [--build-dir DIR] [--base-images-url URL]
//
// The packages get a minified build of their own (--build-dir, default out/package/dist; dist/ stays the
// development build). Its source maps stay there, beside the bundles they map, and out of the packages: a
// stack trace from a user's log maps back with them. Errors in problem files do not need them: they are
// located through the source map of the problem file's own bundle, made when it loads.
//
// Each package is assembled in a temporary directory: the files .vscodeignore lets through (the bundles,
// media, the README's pictures, the Python side) and a node_modules holding esbuild's JS API with one
// binary, or esbuild-wasm.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
/** VS Code's platform targets and the esbuild package of each (Alpine is musl: esbuild's Linux binaries are static). */
export const TARGETS = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'vsix-targets.json'), 'utf8'));
const ESBUILD_VERSION = manifest.dependencies.esbuild;
const CACHE = path.join(REPO_ROOT, 'node_modules', '.cache', 'gradlens-esbuild');
/** Copied into each package's directory; .vscodeignore then picks the files inside them. */
const SHIPPED = ['package.json', 'package.nls.json', 'l10n', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'media', 'python', 'docs'];
const say = (line) => console.log(`[package] ${line}`);

/** The target of this machine, as VS Code names it. */
export function hostTarget() {
  const musl = process.platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime;
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  const target = `${musl ? 'alpine' : process.platform}-${arch}`;
  if (!(target in TARGETS)) throw new Error(`no VS Code platform target for ${process.platform}-${process.arch}: use --universal`);
  return target;
}

export function vsixName(target) {
  return `gradlens-${target ?? 'universal'}-${manifest.version}.vsix`;
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
}

/** The minified bundles and the problem-file API types, into buildDir. */
function build(buildDir) {
  say(`minified build in ${shown(buildDir)}`);
  fs.rmSync(buildDir, { recursive: true, force: true });
  run(process.execPath, ['esbuild.mjs', '--production', '--outdir', buildDir], { stdio: 'inherit' });
  run(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.api.json', '--outDir', buildDir], { stdio: 'inherit' });
}

const shown = (file) => (path.relative(REPO_ROOT, file).startsWith('..') ? file : path.relative(REPO_ROOT, file));

/** The directory of `@esbuild/<name>` at ESBUILD_VERSION, from the npm registry once, then from the cache. */
function esbuildBinaryPackage(name) {
  const dir = path.join(CACHE, `${name}-${ESBUILD_VERSION}`);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    say(`fetching @esbuild/${name}@${ESBUILD_VERSION} from the npm registry`);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-esbuild-'));
    try {
      const tarball = run('npm', ['pack', `@esbuild/${name}@${ESBUILD_VERSION}`, '--pack-destination', scratch, '--silent'], { shell: process.platform === 'win32' }).trim().split('\n').pop();
      run('tar', ['xzf', path.join(scratch, tarball), '-C', scratch]);
      const version = JSON.parse(fs.readFileSync(path.join(scratch, 'package', 'package.json'), 'utf8')).version;
      if (version !== ESBUILD_VERSION) throw new Error(`@esbuild/${name} is ${version}, expected ${ESBUILD_VERSION}`);
      fs.mkdirSync(CACHE, { recursive: true });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(path.join(scratch, 'package'), dir);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  return dir;
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, dereference: true });
}

/** The package directory of `target` (null: universal), with only the runtime modules it ships. */
/**
 * The README as the package shows it. VS Code's extension page allows only https: and data: pictures
 * (its webview's img-src), and the Marketplace only https:. With a base URL for the repository's files
 * (--base-images-url, or package.json's repository), vsce rewrites relative pictures and links to it.
 * Until then the pictures are embedded as data: URLs, so an installed vsix shows them offline.
 */
function embedPictures(readme) {
  return readme.replace(/(!\[[^\]]*\]\()([^)\s:]+\.png)\)/g, (whole, start, picture) => `${start}data:image/png;base64,${fs.readFileSync(path.join(REPO_ROOT, picture)).toString('base64')})`);
}

function stage(target, buildDir, embed) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gradlens-vsix-${target ?? 'universal'}-`));
  for (const entry of SHIPPED) copy(path.join(REPO_ROOT, entry), path.join(dir, entry));
  copy(buildDir, path.join(dir, 'dist'));
  if (embed) fs.writeFileSync(path.join(dir, 'README.md'), embedPictures(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')));
  const modules = path.join(dir, 'node_modules');
  const stagedManifest = { ...manifest };
  // Everything else is bundled into dist/; vsce ships what `npm ls --production` lists.
  if (target) {
    copy(path.join(REPO_ROOT, 'node_modules', 'esbuild'), path.join(modules, 'esbuild'));
    copy(esbuildBinaryPackage(TARGETS[target]), path.join(modules, '@esbuild', TARGETS[target]));
    stagedManifest.dependencies = { esbuild: ESBUILD_VERSION };
  } else {
    copy(path.join(REPO_ROOT, 'node_modules', 'esbuild-wasm'), path.join(modules, 'esbuild-wasm'));
    stagedManifest.dependencies = { 'esbuild-wasm': manifest.devDependencies['esbuild-wasm'] };
  }
  delete stagedManifest.devDependencies;
  delete stagedManifest.scripts;
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(stagedManifest, null, 2)}\n`);
  return dir;
}

function packageTarget(target, out, buildDir, baseImagesUrl) {
  const published = Boolean(baseImagesUrl || manifest.repository);
  const dir = stage(target, buildDir, !published);
  try {
    const args = ['package', '--out', out, '--allow-missing-repository'];
    if (target) args.push('--target', target);
    if (baseImagesUrl) args.push('--baseImagesUrl', baseImagesUrl, '--baseContentUrl', baseImagesUrl);
    // Embedded pictures, and links to the documents shipped beside the README.
    else if (!published) args.push('--no-rewrite-relative-links');
    run(process.execPath, [path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    say(`${shown(out)} (${(fs.statSync(out).size / 1e6).toFixed(1)} MB)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      all: { type: 'boolean', default: false },
      target: { type: 'string', multiple: true, default: [] },
      universal: { type: 'boolean', default: false },
      out: { type: 'string' },
      'build-dir': { type: 'string' },
      'base-images-url': { type: 'string' },
    },
  });
  for (const target of values.target) if (!(target in TARGETS)) throw new Error(`unknown target ${target}: one of ${Object.keys(TARGETS).join(', ')}`);
  const buildDir = path.resolve(values['build-dir'] ?? path.join(REPO_ROOT, 'out', 'package', 'dist'));
  build(buildDir);
  const baseImagesUrl = values['base-images-url'];
  if (!values.all && values.target.length === 0 && !values.universal) {
    packageTarget(hostTarget(), path.join(REPO_ROOT, `gradlens-${manifest.version}.vsix`), buildDir, baseImagesUrl);
    return;
  }
  const outDir = path.resolve(values.out ?? path.join(REPO_ROOT, 'vsix'));
  fs.mkdirSync(outDir, { recursive: true });
  const targets = values.all ? Object.keys(TARGETS) : values.target;
  for (const target of targets) packageTarget(target, path.join(outDir, vsixName(target)), buildDir, baseImagesUrl);
  if (values.all || values.universal) packageTarget(null, path.join(outDir, vsixName(null)), buildDir, baseImagesUrl);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`package: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
