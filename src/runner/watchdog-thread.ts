/**
 * The watchdog thread (dist/watchdog.js): see watchdog.ts. Kept apart from the
 * worker bundle so the thread starts small.
 */
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type MessagePort, parentPort } from 'node:worker_threads';
import { framePath } from './platform';
import { HANG_REPORT_FD, type HangReport, type WatchdogMessage } from './watchdog';

function runWatchdogThread(port: MessagePort): void {
  const session = new inspector.Session();
  session.connectToMainThread();
  const scripts = new Map<string, string>();
  let map: { file: string; sourceMap: SourceMap; sources: string[] } | null = null;
  let timer: NodeJS.Timeout | undefined;
  let armedFor: string | null = null;
  // Keeps this thread alive; the thread itself is unref'd, so it never keeps the process alive.
  setInterval(() => undefined, 60_000);

  const report = (hang: HangReport): void => {
    try {
      fs.writeSync(HANG_REPORT_FD, `${JSON.stringify(hang)}\n`);
    } catch {
      // No pipe (run outside the runner): the parent's own time limit still applies.
    }
  };
  session.on('Debugger.scriptParsed', (message) => {
    scripts.set(message.params.scriptId, message.params.url);
  });
  session.on('Debugger.paused', (message) => {
    const reason = message.params.reason === 'OOM' ? 'memory' : 'timeout';
    const problem = armedFor ?? '';
    armedFor = null;
    clearTimeout(timer);
    let hang: HangReport = { reason, problem, location: null, functionName: null };
    for (const frame of message.params.callFrames) {
      const url = scripts.get(frame.location.scriptId) ?? frame.url;
      if (!map || (url !== map.file && url !== pathToFileURL(map.file).href)) continue;
      const entry = map.sourceMap.findEntry(frame.location.lineNumber, frame.location.columnNumber ?? 0) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (entry.originalSource === undefined || entry.originalLine === undefined) continue;
      const source = path.resolve(path.dirname(map.file), framePath(entry.originalSource));
      if (!map.sources.includes(source)) continue;
      hang = {
        reason,
        problem,
        location: { file: source, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 },
        functionName: frame.functionName || null,
      };
      break;
    }
    report(hang);
  });
  session.post('Debugger.enable');

  port.on('message', (message: WatchdogMessage) => {
    switch (message.type) {
      case 'bundle':
        map = { file: message.file, sourceMap: new SourceMap(JSON.parse(message.sourceMap)), sources: message.sources };
        break;
      case 'arm':
        clearTimeout(timer);
        armedFor = message.problem;
        timer = setTimeout(() => {
          session.post('Debugger.pause');
          // Waiting on a promise is not running code: nothing pauses, so report without a place.
          setTimeout(() => {
            if (armedFor !== null) report({ reason: 'timeout', problem: armedFor, location: null, functionName: null });
            armedFor = null;
          }, 500);
        }, message.milliseconds);
        break;
      case 'disarm':
        clearTimeout(timer);
        armedFor = null;
        break;
    }
  });
}

if (parentPort) runWatchdogThread(parentPort);
