/**
 * Checks under the debugger. A TypeScript/JavaScript file: the runner process
 * starts paused on an inspector port (supervisor.ts, `limits.debug`), and VS
 * Code's JavaScript debugger (js-debug, built into VS Code) attaches to it,
 * linked to the test run, with the bundle's source maps, so a breakpoint in
 * the user's `grad` or `backward` binds in their .ts file; GradLens's own code
 * is skipped when stepping. A Python file: its interpreter listens with
 * debugpy and waits, and the Python Debugger extension attaches.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DebuggerAddress } from '../runner/runner';

/** The debug type that attaches to debugpy: the Python Debugger extension's ('debugpy'), else the older Python extension's ('python'); null without either. */
export function pythonDebuggerType(): 'debugpy' | 'python' | null {
  const types = new Set(vscode.extensions.all.flatMap((extension) => ((extension.packageJSON as { contributes?: { debuggers?: { type?: string }[] } }).contributes?.debuggers ?? []).map((debuggerEntry) => debuggerEntry.type)));
  return types.has('debugpy') ? 'debugpy' : types.has('python') ? 'python' : null;
}

/** The attach configuration for one runner process. */
export function attachConfiguration(file: string, address: DebuggerAddress, extensionPath: string, attachId: string): vscode.DebugConfiguration {
  const name = `GradLens: check ${path.basename(file)}`;
  if (address.kind === 'python') {
    return {
      type: pythonDebuggerType() ?? 'debugpy',
      request: 'attach',
      name,
      connect: { host: address.host, port: address.port },
      justMyCode: true,
      // GradLens's runner is not the user's code: stepping out of grad goes back to theirs, not into it.
      rules: [{ path: path.join(extensionPath, 'python'), include: false }],
      __gradlensAttach: attachId,
    };
  }
  return {
    type: 'pwa-node',
    request: 'attach',
    name,
    address: address.host,
    port: address.port,
    // The process waits at its first line (--inspect-brk) until breakpoints are set.
    continueOnAttach: true,
    sourceMaps: true,
    // The problem file is compiled in memory: no output files to scan, and its inline source map may sit anywhere.
    outFiles: [],
    resolveSourceMapLocations: null,
    // Breakpoints in a file whose script appears later (the bundle) bind before it runs.
    pauseForSourceMap: true,
    skipFiles: ['<node_internals>/**', `${extensionPath}/**`],
    autoAttachChildProcesses: false,
    attachExistingChildren: false,
    __gradlensAttach: attachId,
  };
}

let attachCount = 0;

/**
 * Attaches the debugger to each runner process of one file's check (a crash
 * or an out-of-memory starts a fresh one); stopping the debug session stops
 * the check.
 */
export class DebugAttachment implements vscode.Disposable {
  private current: string | null = null;
  private readonly terminated: vscode.Disposable;

  constructor(
    private readonly uri: vscode.Uri,
    private readonly extensionPath: string,
    private readonly testRun: vscode.TestRun | undefined,
    private readonly stop: (reason: string) => void,
  ) {
    this.terminated = vscode.debug.onDidTerminateDebugSession((session) => {
      if (this.current !== null && session.configuration.__gradlensAttach === this.current) {
        this.current = null;
        this.stop('the debug session ended');
      }
    });
  }

  attach(address: DebuggerAddress): void {
    const id = `${process.pid}-${++attachCount}`;
    this.current = id;
    const folder = vscode.workspace.getWorkspaceFolder(this.uri);
    const configuration = attachConfiguration(this.uri.fsPath, address, this.extensionPath, id);
    const debuggerName = address.kind === 'python' ? 'Python debugger' : 'JavaScript debugger';
    void Promise.resolve(vscode.debug.startDebugging(folder, configuration, { testRun: this.testRun, suppressSaveBeforeStart: true })).then(
      (started) => {
        if (!started && this.current === id) this.stop(`the ${debuggerName} did not start`);
      },
      (error: unknown) => {
        if (this.current === id) this.stop(`the ${debuggerName} did not start: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  dispose(): void {
    this.current = null;
    this.terminated.dispose();
  }
}
