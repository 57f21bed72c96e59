// Writes the JSON schema of `gradlens.optimizer.hyperparameters` into package.json from the optimizers'
// own hyper-parameter specs (src/core/optim/schema.ts); test/unit/settings.test.ts fails while they differ.
// Usage: npm run settings-schema
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { hyperparameterSchema } = require('../out/src/core/optim/schema.js');
const file = new URL('../package.json', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const manifest = JSON.parse(text);
const setting = manifest.contributes.configuration.properties['gradlens.optimizer.hyperparameters'];
Object.assign(setting, hyperparameterSchema());
const updated = `${JSON.stringify(manifest, null, 2)}\n`;
if (updated === text) console.log('package.json: the hyper-parameter schema is up to date');
else {
  fs.writeFileSync(file, updated);
  console.log('package.json: wrote the schema of gradlens.optimizer.hyperparameters');
}
