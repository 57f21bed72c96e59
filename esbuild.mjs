// Bundles the extension host, the CLI, the sandboxed worker, the problem-file API and the dashboard webview.
import * as esbuild from 'esbuild';

// --production: minified, for the packages (scripts/package.mjs builds them into --outdir, default dist/).
const production = process.argv.includes('--production');
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag >= 0 ? process.argv[outdirFlag + 1] : 'dist';
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  // esbuild runs in the worker to compile problem files; it ships its own binary.
  external: ['vscode', 'esbuild'],
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: `${outdir}/extension.js` }),
  esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: `${outdir}/cli.js`, banner: { js: '#!/usr/bin/env node' } }),
  esbuild.build({ ...common, entryPoints: ['src/runner/worker.ts'], outfile: `${outdir}/worker.js` }),
  esbuild.build({ ...common, entryPoints: ['src/runner/worker-main.ts'], outfile: `${outdir}/worker-main.js` }),
  esbuild.build({ ...common, entryPoints: ['src/runner/watchdog-thread.ts'], outfile: `${outdir}/watchdog.js` }),
  esbuild.build({ ...common, entryPoints: ['src/api.ts'], outfile: `${outdir}/api.js` }),
  // The dashboard runs in a browser (the webview): dashboard.js and the dashboard.css it imports.
  esbuild.build({
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
    entryPoints: ['webview/main.ts'],
    outfile: `${outdir}/webview/dashboard.js`,
  }),
]);
