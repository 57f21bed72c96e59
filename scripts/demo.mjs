// `npm run demo`: checks the bundled examples with the freshly built CLI, so a
// newcomer sees correct gradients pass and each buggy twin caught by name.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const files = fs.readdirSync('examples').filter((file) => file.endsWith('.grad.ts')).sort().map((file) => `examples/${file}`);
const run = (args) => spawnSync(process.execPath, ['dist/cli.js', 'check', ...args], { stdio: 'inherit' }).status;

console.log(`$ gradlens check ${files.join(' ')}\n`);
const firstOrder = run(files);
console.log('\n$ gradlens check examples/second-order.grad.ts --order 2\n');
const secondOrder = run(['examples/second-order.grad.ts', '--order', '2']);

// The NumPy twins, when an interpreter with NumPy is at hand ($GRADLENS_PYTHON, python3, Debian's python3).
const python = [process.env.GRADLENS_PYTHON, 'python3', '/usr/bin/python3'].find((candidate) => candidate && spawnSync(candidate, ['-c', 'import numpy']).status === 0);
let pythonExamples = 1;
if (python) {
  // A folder stands for its problem files.
  console.log(`\n$ gradlens check examples/python --python ${python}\n`);
  pythonExamples = run(['examples/python', '--python', python]);
} else {
  console.log('\n(The Python twins in examples/python/ were skipped: no python3 with NumPy found; set GRADLENS_PYTHON.)');
}

// The examples contain deliberate bugs: exit status 1 (something failed) is the expected outcome.
if (firstOrder !== 1 || secondOrder !== 1 || pythonExamples !== 1) {
  console.error(`\ndemo: expected the buggy examples to fail (exit 1), got exit ${firstOrder}, ${secondOrder} and ${pythonExamples}`);
  process.exit(1);
}
console.log(`
Every ✗ above is a deliberate bug, named down to the element (e.g. W1[0,1]);
each buggy export says in a comment what is wrong. Try your own file:
  node dist/cli.js check path/to/your.grad.ts      (or your_grad.py, with NumPy, or a folder)`);
