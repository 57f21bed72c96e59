// The packages as a Marketplace user gets them: `scripts/package.mjs --all` builds one vsix per VS Code
// platform target and a universal one; each must carry exactly its platform's esbuild binary (checked
// by the binary's own header, not by its file name), the README's pictures, no source maps; the
// universal one must check a problem file with esbuild-wasm and no node on the PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractZip, readZip } from './zip';

const repo = path.resolve(__dirname, '../../..');
const targets = Object.keys(JSON.parse(fs.readFileSync(path.join(repo, 'scripts', 'vsix-targets.json'), 'utf8')) as Record<string, string>);
const version = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

/** Executable format and machine from the file's header (ELF e_machine, Mach-O cputype, PE Machine). */
function executableKind(bytes: Buffer): string {
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    const machine = bytes.readUInt16LE(18);
    return `elf-${({ 62: 'x64', 183: 'arm64', 40: 'arm' } as Record<number, string>)[machine] ?? machine}`;
  }
  if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4);
    return `macho-${({ 0x01000007: 'x64', 0x0100000c: 'arm64' } as Record<number, string>)[cpu] ?? cpu.toString(16)}`;
  }
  if (bytes.toString('latin1', 0, 2) === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c);
    assert.equal(bytes.toString('latin1', pe, pe + 4), 'PE\0\0');
    const machine = bytes.readUInt16LE(pe + 4);
    return `pe-${({ 0x8664: 'x64', 0xaa64: 'arm64' } as Record<number, string>)[machine] ?? machine.toString(16)}`;
  }
  return 'unknown';
}

/** What a target's binary must be: VS Code's target names say the OS (Alpine is Linux) and the CPU. */
function expectedKind(target: string): string {
  const [system, arch] = target.split('-');
  const format = ({ linux: 'elf', alpine: 'elf', darwin: 'macho', win32: 'pe' } as Record<string, string>)[system];
  return `${format}-${arch === 'armhf' ? 'arm' : arch}`;
}

const BINARY = /^extension\/node_modules\/@esbuild\/[^/]+\/(bin\/esbuild|esbuild\.exe)$/;

// Bug: d(3·x1)/dx1 is 3, not -3 (hand-derived). throwsInGrad throws at line 14, column 11.
const PROBLEM = `type V = { x: number[] };

// Bug: the derivative of 3*x1 is 3, not -3.
export const signError = {
  params: { x: [0.5, -1.5, 2] },
  f: (p: V) => p.x[0] ** 2 + 3 * p.x[1] + p.x[2] ** 3,
  grad: (p: V) => ({ x: [2 * p.x[0], -3, 3 * p.x[2] ** 2] }),
};

export const throwsInGrad = {
  params: { x: [1, 2] },
  f: (p: V) => p.x[0] * p.x[1],
  grad: (): V => {
    throw new RangeError('no gradient here');
  },
};
`;

interface CheckJson {
  problems: { name: string; verdict: string; worst: { element: string; passed: boolean; analytic: number; numeric: number }[]; errorDetail?: { location: { line: number; column: number } | null } }[];
}

describe('platform packages (scripts/package.mjs --all)', () => {
  let scratch = '';
  const vsix = (target: string | null) => path.join(scratch, 'vsix', `gradlens-${target ?? 'universal'}-${version}.vsix`);

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-package-test-'));
    const built = spawnSync(process.execPath, [path.join(repo, 'scripts', 'package.mjs'), '--all', '--out', path.join(scratch, 'vsix'), '--build-dir', path.join(scratch, 'build')], { cwd: repo, encoding: 'utf8' });
    assert.equal(built.status, 0, `${built.stdout}\n${built.stderr}`);
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  for (const target of targets) {
    it(`${target}: exactly its own esbuild binary, executable, and no esbuild-wasm`, () => {
      const archive = readZip(vsix(target));
      const binaries = archive.names.filter((name) => BINARY.test(name));
      assert.equal(binaries.length, 1, binaries.join(', '));
      assert.equal(executableKind(archive.read(binaries[0])), expectedKind(target));
      if (!target.startsWith('win32')) assert.equal(archive.mode(binaries[0]) & 0o111, 0o111, 'the binary keeps its execute bits');
      assert.ok(archive.names.includes('extension/node_modules/esbuild/lib/main.js'));
      assert.deepEqual(archive.names.filter((name) => name.includes('esbuild-wasm')), []);
      assert.match(archive.read('extension.vsixmanifest').toString('utf8'), new RegExp(`TargetPlatform="${target}"`));
    });
  }

  it('universal: esbuild-wasm and no native binary, no target platform', () => {
    const archive = readZip(vsix(null));
    assert.deepEqual(archive.names.filter((name) => name.includes('@esbuild/') || name.includes('node_modules/esbuild/')), []);
    assert.equal(archive.read('extension/node_modules/esbuild-wasm/esbuild.wasm').readUInt32BE(0), 0x0061736d); // "\0asm"
    assert.doesNotMatch(archive.read('extension.vsixmanifest').toString('utf8'), /TargetPlatform=/);
  });

  /** GitHub's and the Marketplace's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
  const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');

  it('the README\'s links resolve inside the package: shipped files and headings of the README', () => {
    const archive = readZip(vsix(null));
    const readme = archive.read('extension/readme.md').toString('utf8');
    const headings = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((match) => anchor(match[1])));
    const links = [...readme.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1]).filter((link) => !/^[a-z]+:/i.test(link));
    assert.ok(links.length >= 5, links.join(', '));
    for (const link of links) {
      const [file, fragment] = link.split('#');
      if (file === '') assert.ok(headings.has(fragment), `#${fragment} is a heading of the README`);
      else assert.ok(archive.names.includes(path.posix.join('extension', file)), `${file} is in the package`);
    }
  });

  it('ships the English strings: every %key% of the packaged package.json resolves, and the l10n bundle is there', () => {
    for (const target of [null, 'linux-x64']) {
      const archive = readZip(vsix(target));
      const manifest = archive.read('extension/package.json').toString('utf8');
      const strings = JSON.parse(archive.read('extension/package.nls.json').toString('utf8')) as Record<string, string>;
      const keys = [...manifest.matchAll(/"%([\w.]+)%"/g)].map((match) => match[1]);
      assert.ok(keys.length >= 20, `${keys.length} keys`);
      for (const key of keys) assert.ok(typeof strings[key] === 'string', `${target ?? 'universal'}: ${key} has its text`);
      assert.ok(archive.names.includes('extension/l10n/bundle.l10n.json'), `${target ?? 'universal'}: the l10n bundle`);
    }
  });

  it('honest Marketplace metadata: a preview, at most 5 keywords, categories from the list that fit', () => {
    const shipped = JSON.parse(readZip(vsix('linux-x64')).read('extension/package.json').toString('utf8')) as { preview?: boolean; keywords: string[]; categories: string[]; version: string };
    assert.equal(shipped.preview, true);
    assert.match(shipped.version, /^0\./);
    assert.ok(shipped.keywords.length <= 5, shipped.keywords.join(', '));
    const fitting = ['Testing', 'Machine Learning', 'Data Science', 'Visualization', 'Education'];
    assert.deepEqual(shipped.categories.filter((category) => !fitting.includes(category)), []);
    const changelog = fs.readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8');
    assert.match(changelog, new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}`, 'm'), 'a dated CHANGELOG entry for this version');
  });

  /** The pictures of a README (Markdown images and <img> tags), in order. */
  function pictures(readme: string): string[] {
    return [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g), ...readme.matchAll(/<img [^>]*src="([^"]+)"/g)].map((match) => match[1]);
  }

  for (const target of [...targets, null]) {
    it(`${target ?? 'universal'}: the README's pictures are shipped and shown (data: URLs, as VS Code's extension page allows); minified bundles without source maps`, () => {
      const archive = readZip(vsix(target));
      const source = pictures(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'));
      const packaged = pictures(archive.read('extension/readme.md').toString('utf8'));
      assert.ok(source.length >= 2, `pictures in the README: ${source.join(', ')}`);
      assert.equal(packaged.length, source.length);
      source.forEach((picture, index) => {
        const file = fs.readFileSync(path.join(repo, picture));
        assert.equal(file.readUInt32BE(0), 0x89504e47, `${picture} is a PNG`);
        assert.ok(archive.read(path.posix.join('extension', picture)).equals(file), `${picture} is in the package`);
        const embedded = /^data:image\/png;base64,(.+)$/.exec(packaged[index]);
        assert.ok(embedded, `${picture} is embedded: ${packaged[index].slice(0, 40)}`);
        assert.ok(Buffer.from(embedded[1], 'base64').equals(file), `${picture} embedded byte for byte`);
      });
      assert.deepEqual(archive.names.filter((name) => name.endsWith('.map')), []);
      // Minified: well under the size of the development build in dist/ (which `npm run test:unit` builds).
      for (const bundle of ['extension.js', 'worker-main.js', 'cli.js', 'webview/dashboard.js']) {
        const shipped = archive.read(`extension/dist/${bundle}`).length;
        const development = fs.statSync(path.join(repo, 'dist', bundle)).size;
        assert.ok(shipped < 0.7 * development, `dist/${bundle}: ${shipped} bytes shipped, ${development} in the development build`);
      }
    });
  }

  /** `gradlens check --json` from an installed copy of a package, with nothing on the PATH. */
  function checkWithPackage(target: string | null): CheckJson {
    const installed = path.join(scratch, `installed-${target ?? 'universal'}`);
    extractZip(readZip(vsix(target)), 'extension/', installed);
    const work = fs.mkdtempSync(path.join(scratch, 'work-'));
    fs.writeFileSync(path.join(work, 'probe.grad.ts'), PROBLEM);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: '' };
    delete env.ESBUILD_BINARY_PATH;
    const run = spawnSync(process.execPath, [path.join(installed, 'dist', 'cli.js'), 'check', '--json', 'probe.grad.ts'], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 1, `exit 1 (a failing check): ${run.stderr}`);
    return JSON.parse(run.stdout) as CheckJson;
  }

  function assertProbeResults(result: CheckJson): void {
    const [signError, throwsInGrad] = result.problems;
    assert.equal(signError.verdict, 'fail');
    const failing = signError.worst.filter((element) => !element.passed);
    assert.deepEqual(failing.map((element) => element.element), ['x[1]']);
    assert.equal(failing[0].analytic, -3);
    assert.ok(Math.abs(failing[0].numeric - 3) < 1e-6, `numeric ${failing[0].numeric}`);
    assert.equal(throwsInGrad.verdict, 'error');
    // Located through the problem file's own bundle map: the package ships no maps of its own.
    assert.deepEqual(throwsInGrad.errorDetail?.location && { line: throwsInGrad.errorDetail.location.line, column: throwsInGrad.errorDetail.location.column }, { line: 14, column: 11 });
  }

  it('universal: esbuild-wasm bundles and checks a problem file, no native binary anywhere, no node on the PATH', () => {
    const result = checkWithPackage(null);
    const installed = path.join(scratch, 'installed-universal');
    assert.throws(() => require.resolve('esbuild', { paths: [path.join(installed, 'dist')] }), 'no esbuild resolvable from the installed package');
    assertProbeResults(result);
  });

  it('this machine\'s platform package checks the same problem file with its native binary', (context) => {
    const host = `${process.platform}-${process.arch}`;
    if (!targets.includes(host)) return context.skip(`no package for ${host}`);
    assertProbeResults(checkWithPackage(host));
  });
});
