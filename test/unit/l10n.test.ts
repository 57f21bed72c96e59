/**
 * Localization: every vscode.l10n.t message of the extension has its entry
 * in l10n/bundle.l10n.json (extracted again here by @vscode/l10n-dev, the
 * tool VS Code's own extensions use, so the bundle cannot drift; `npm run
 * l10n` rewrites it), every %key% of package.json is in package.nls.json,
 * and a pseudo-locale bundle made from them keeps every placeholder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { getL10nJson, getL10nPseudoLocalized } from '@vscode/l10n-dev';

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

function sources(directory: string): string[] {
  return fs.readdirSync(path.join(ROOT, directory), { recursive: true }).map(String).filter((file) => file.endsWith('.ts')).map((file) => path.join(ROOT, directory, file));
}

/** Every string of package.json that is a %key%. */
function manifestKeys(value: unknown, keys = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const match = /^%([^%]+)%$/.exec(value);
    if (match) keys.add(match[1]);
  } else if (Array.isArray(value)) value.forEach((entry) => manifestKeys(entry, keys));
  else if (value && typeof value === 'object') Object.values(value).forEach((entry) => manifestKeys(entry, keys));
  return keys;
}

const placeholders = (text: string) => [...text.matchAll(/\{\d+\}/g)].map((match) => match[0]).sort();

describe('localization', () => {
  it('has a bundle entry for every vscode.l10n.t message of the extension, and no other', async () => {
    const files = sources('src').map((file) => ({ extension: '.ts', contents: fs.readFileSync(file, 'utf8') }));
    const extracted = await getL10nJson(files);
    const bundle = read('l10n/bundle.l10n.json');
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(extracted).sort(), 'l10n/bundle.l10n.json is out of date: run npm run l10n');
    for (const [key, message] of Object.entries(bundle)) assert.equal(message, key, 'English messages are their own keys');
    assert.ok(Object.keys(bundle).length >= 60, `${Object.keys(bundle).length} messages`);
    assert.equal(read('package.json').l10n, './l10n');
  });

  it('has a package.nls.json entry for every %key% of package.json, and no other', () => {
    const manifest = read('package.json');
    const nls = read('package.nls.json');
    const used = manifestKeys(manifest);
    assert.deepEqual([...used].sort(), Object.keys(nls).sort());
    const contributes = manifest.contributes as { commands: { title: string }[]; configuration: { properties: Record<string, Record<string, unknown>> } };
    for (const command of contributes.commands) assert.match(command.title, /^%command\.\w+\.title%$/);
    for (const [name, setting] of Object.entries(contributes.configuration.properties)) {
      for (const field of ['description', 'markdownDescription', 'deprecationMessage', 'markdownDeprecationMessage']) {
        if (field in setting) assert.match(String(setting[field]), /^%config\.[\w.]+%$/, `${name}.${field} is localizable`);
      }
    }
    for (const text of Object.values(nls)) assert.ok(typeof text === 'string' && text.trim() !== '');
  });

  it('pseudo-localizes every message with its placeholders intact (a qps-ploc bundle)', () => {
    for (const file of ['l10n/bundle.l10n.json', 'package.nls.json']) {
      const english = read(file) as Record<string, string>;
      const pseudo = getL10nPseudoLocalized(english) as Record<string, string>;
      assert.deepEqual(Object.keys(pseudo), Object.keys(english));
      for (const [key, text] of Object.entries(english)) {
        assert.deepEqual(placeholders(pseudo[key]), placeholders(text), `${file}: ${key}`);
        if (/[a-z]{3}/.test(text.replace(/\{\d+\}|\$\([\w~-]+\)|`[^`]*`|#[\w.]+#|gradlens\.[\w.]+/g, ''))) assert.notEqual(pseudo[key], text, `${file}: ${key} is translated`);
      }
    }
  });
});
