/**
 * Long jobs (checks, optimizer runs, analyses): each shows its progress where
 * it was started (a cancellable notification, the status bar, or only the Test
 * Explorer's own progress), shows in the status bar while it runs, and stops
 * with **Stop Run**. The status bar keeps the last verdict afterwards, red
 * only when the user must act outside their code (the runner failed, settings
 * are wrong), not for a gradient that is wrong: that is what checks are for.
 */
import * as vscode from 'vscode';
import type { LastVerdict } from './describe';

export interface JobContext {
  signal: AbortSignal;
  report(message: string): void;
}

export class Jobs implements vscode.Disposable {
  private readonly running = new Map<number, { title: string; controller: AbortController }>();
  private nextId = 1;
  private readonly statusItem: vscode.StatusBarItem;
  private last: LastVerdict | null = null;
  private settingsProblems: string[] = [];

  constructor() {
    this.statusItem = vscode.window.createStatusBarItem('gradlens.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'GradLens';
    this.render();
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /**
   * Runs `task` with a progress notification (cancel = Stop), for
   * `location: 'window'` a quieter status-bar progress, for 'none' no
   * progress of its own (a Test Explorer run shows its progress there). An
   * external token (the Test Explorer's) also stops it.
   */
  async run<T>(title: string, task: (job: JobContext) => Promise<T>, options: { location?: 'notification' | 'window' | 'none'; token?: vscode.CancellationToken } = {}): Promise<T> {
    const id = this.nextId++;
    const controller = new AbortController();
    this.running.set(id, { title, controller });
    const external = options.token?.onCancellationRequested(() => controller.abort());
    this.render();
    try {
      if (options.location === 'none') return await task({ signal: controller.signal, report: () => undefined });
      return await vscode.window.withProgress(
        {
          location: options.location === 'window' ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('GradLens: {0}', title),
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          return task({ signal: controller.signal, report: (message) => progress.report({ message }) });
        },
      );
    } finally {
      external?.dispose();
      this.running.delete(id);
      this.render();
    }
  }

  /** Stops every running job; returns how many there were. */
  stopAll(): number {
    const count = this.running.size;
    for (const { controller } of this.running.values()) controller.abort();
    return count;
  }

  setLastVerdict(verdict: LastVerdict): void {
    this.last = verdict;
    this.render();
  }

  /** Rejected settings (one line each): the status bar turns red and opens the settings until they are fixed. */
  setSettingsProblems(problems: string[]): void {
    this.settingsProblems = problems;
    this.render();
  }

  private render(): void {
    void vscode.commands.executeCommand('setContext', 'gradlens.running', this.running.size > 0);
    if (this.running.size > 0) {
      const titles = [...this.running.values()].map((job) => job.title);
      this.statusItem.text = titles.length > 1 ? vscode.l10n.t('$(sync~spin) GradLens: {0} (+{1})', titles[0], titles.length - 1) : vscode.l10n.t('$(sync~spin) GradLens: {0}', titles[0]);
      this.statusItem.tooltip = `${titles.join('\n')}\n${vscode.l10n.t('Click to stop')}`;
      this.statusItem.command = 'gradlens.stopRun';
      this.statusItem.backgroundColor = undefined;
      this.statusItem.show();
      return;
    }
    const error = new vscode.ThemeColor('statusBarItem.errorBackground');
    if (this.settingsProblems.length > 0) {
      this.statusItem.text = `$(warning) GradLens: ${this.last ? `${this.last.text} · ` : ''}settings`;
      this.statusItem.tooltip = `${this.settingsProblems.join('\n')}\nClick to open the GradLens settings`;
      this.statusItem.command = { title: 'Open Settings', command: 'workbench.action.openSettings', arguments: ['gradlens'] };
      this.statusItem.backgroundColor = error;
      this.statusItem.show();
      return;
    }
    if (!this.last) {
      this.statusItem.hide();
      return;
    }
    this.statusItem.text = this.last.ok ? vscode.l10n.t('$(pass) GradLens: {0}', this.last.text) : vscode.l10n.t('$(error) GradLens: {0}', this.last.text);
    this.statusItem.tooltip = `${this.last.tooltip}\n${vscode.l10n.t('Click to show the report')}`;
    this.statusItem.command = 'gradlens.showOutput';
    this.statusItem.backgroundColor = this.last.needsUser ? error : undefined;
    this.statusItem.show();
  }

  dispose(): void {
    this.stopAll();
    this.statusItem.dispose();
  }
}
