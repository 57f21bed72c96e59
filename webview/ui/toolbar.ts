/** The run picker, the run controls (pause, resume, step, stop, restart), another optimizer or schedule on the same problem, and the status line. */
import { OPTIMIZER_NAMES, type OptimizerName, RUN_ACTIONS, type RunAction } from '../../src/webview-protocol';
import { Changed } from '../model/dashboard-model';
import type { RunModel, RunStatus } from '../model/run';
import type { View, ViewContext } from './context';
import { button, h, replaceChildren } from './dom';

const ACTIONS: Record<RunAction, { label: string; describe: string; enabledWhen: RunStatus[] }> = {
  pause: { label: 'Pause', describe: 'Pause the run', enabledWhen: ['running'] },
  resume: { label: 'Resume', describe: 'Resume the run', enabledWhen: ['paused'] },
  step: { label: 'Step', describe: 'Take a single optimizer step', enabledWhen: ['paused'] },
  stop: { label: 'Stop', describe: 'Stop the run', enabledWhen: ['running', 'paused'] },
  restart: { label: 'Restart', describe: 'Start the run again from the beginning', enabledWhen: ['running', 'paused', 'ended'] },
};

export class Toolbar implements View {
  readonly element: HTMLElement;
  private readonly runSelect = h('select', { id: 'run-select', 'aria-label': 'Run' });
  private readonly buttons: Record<RunAction, HTMLButtonElement>;
  private readonly status = h('span', { class: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly optimizerSelect = h('select', { id: 'optimizer-select', 'aria-label': 'Another optimizer' }, ...OPTIMIZER_NAMES.map((name) => h('option', { value: name }, name)));
  private readonly scheduleInput = h('input', {
    id: 'schedule-input',
    type: 'text',
    'aria-label': 'Learning-rate schedule',
    placeholder: 'constant, or e.g. step:step_size=1,gamma=0.9',
    spellcheck: 'false',
  });
  private readonly runWithButton: HTMLButtonElement;
  /** Once the user picks an optimizer, the picker stops following the focused run's. */
  private optimizerChosen = false;

  constructor(private readonly context: ViewContext) {
    this.buttons = Object.fromEntries(
      RUN_ACTIONS.map((action) => [action, button(ACTIONS[action].label, ACTIONS[action].describe, () => this.control(action))]),
    ) as Record<RunAction, HTMLButtonElement>;
    this.runSelect.addEventListener('change', () => {
      context.model.focusedRunId = this.runSelect.value;
      context.invalidate(Changed.all);
    });
    this.optimizerSelect.addEventListener('change', () => (this.optimizerChosen = true));
    this.runWithButton = button('Run', 'Run this optimizer and schedule on the same problem, from the same start', () => this.runWith());
    this.element = h(
      'header',
      { class: 'toolbar' },
      h('label', { for: 'run-select' }, 'Run'),
      this.runSelect,
      h('div', { class: 'controls', role: 'group', 'aria-label': 'Run controls' }, ...RUN_ACTIONS.map((action) => this.buttons[action])),
      h(
        'div',
        { class: 'controls', role: 'group', 'aria-label': 'Another optimizer on the same problem' },
        h('label', { for: 'optimizer-select' }, 'Optimizer'),
        this.optimizerSelect,
        h('label', { for: 'schedule-input' }, 'Schedule'),
        this.scheduleInput,
        this.runWithButton,
      ),
      this.status,
    );
  }

  render(changed: number): void {
    // New records change only the step in each run's label: relabel in place (rebuilding would close an open list).
    if (!(changed & Changed.runs)) {
      if (changed & Changed.series) this.relabel();
      return;
    }
    const runs = [...this.context.model.runs.values()].reverse();
    const focused = this.context.model.focusedRun;
    replaceChildren(
      this.runSelect,
      ...(runs.length ? runs.map((run) => h('option', { value: run.meta.runId, selected: run === focused }, describeRun(run))) : [h('option', { value: '' }, 'no runs yet')]),
    );
    this.runSelect.disabled = runs.length === 0;
    // A training script's run (gradlens.watch) runs on its own: nothing here controls it.
    const external = focused?.meta.external !== undefined;
    for (const action of RUN_ACTIONS) {
      this.buttons[action].disabled = !focused || external || !ACTIONS[action].enabledWhen.includes(focused.status);
      this.buttons[action].title = external ? 'A training script\'s run is controlled by the script, not the dashboard' : ACTIONS[action].describe;
    }
    this.runWithButton.disabled = !focused || external;
    // An external run's optimizer (AdamW, MyOpt) is the script's class, not one of the picker's.
    if (focused && !this.optimizerChosen && !external) this.optimizerSelect.value = focused.meta.optimizer;
  }

  private relabel(): void {
    for (const option of this.runSelect.options) {
      const run = this.context.model.runs.get(option.value);
      if (run) option.textContent = describeRun(run);
    }
  }

  private runWith(): void {
    const run = this.context.model.focusedRun;
    if (!run) return;
    const optimizer = this.optimizerSelect.value as OptimizerName;
    const schedule = this.scheduleInput.value.trim() || null;
    void this.context.host.request({ type: 'runWith', runId: run.meta.runId, optimizer, schedule }).then((response) => {
      this.context.announce(response.error ? `Run failed: ${response.error}` : `Started ${optimizer}${schedule ? ` with ${schedule}` : ''}.`, response.error ? 'error' : 'info');
    });
  }

  announce(text: string, kind: 'info' | 'error'): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', kind === 'error');
  }

  private control(action: RunAction): void {
    const run = this.context.model.focusedRun;
    if (!run) return;
    void this.context.host.request({ type: 'control', runId: run.meta.runId, action }).then((response) => {
      if (response.error) {
        this.context.announce(`${ACTIONS[action].label} failed: ${response.error}`, 'error');
        return;
      }
      // The buttons follow the run's state when the host reports it (runStatus, runEnded).
      this.context.announce(`${ACTIONS[action].label}: done.`);
    });
  }
}

function describeRun(run: RunModel): string {
  const step = run.lastStep ? ` · step ${run.lastStep}` : '';
  const external = run.meta.external;
  if (!external) return `${run.meta.optimizer} on ${run.meta.problem} · ${run.status}${step}`;
  const origin = [external.script, external.live ? 'external, live' : 'external, log'].filter(Boolean).join(', ');
  const status = run.ended ? 'ended' : 'running';
  return `${run.meta.problem} (${origin}) · ${run.meta.optimizer} · ${status}${step}${run.dropped ? ` · ${run.dropped} dropped` : ''}`;
}
