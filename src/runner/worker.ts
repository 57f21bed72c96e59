/**
 * The runner process's entry (dist/worker.js): a Python file's interpreter
 * starts first (python/prestart.ts), while the runner itself, a bundle that
 * takes node some tens of milliseconds to compile, loads (worker-main.ts).
 */
import './python/prestart';
import { createRequire } from 'node:module';
import * as path from 'node:path';

// A bundle of its own, loaded only now: the interpreter is already starting.
createRequire(__filename)(path.join(__dirname, 'worker-main.js'));
