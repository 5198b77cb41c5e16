/** list-tasks and analyze-priority. */
import type { TaskSummary } from '../../caretaker.js';
import {
  locateDaemon,
  openCaretaker,
  printJson,
  warnIfConfigChanged,
  type GlobalOptions,
  type Io,
} from '../context.js';
import { relative, table, when } from '../format.js';
import { pauseLine } from './pause.js';

/** The daemon's view of the tasks when one runs (it runs the configuration it loaded), else ours. */
async function taskList(opts: GlobalOptions, io: Io): Promise<TaskSummary[]> {
  const { location, daemon } = await locateDaemon(opts);
  if (daemon) {
    await warnIfConfigChanged(location, io, opts.json);
    return daemon.call<TaskSummary[]>('GET', '/v1/tasks');
  }
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    return await caretaker.tasks();
  } finally {
    await caretaker.close();
  }
}

export async function listTasksCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const tasks = await taskList(opts, io);
  if (opts.json) {
    printJson(io, tasks);
    return 0;
  }
  const now = Date.now();
  io.out(
    table(
      ['TASK', 'ACTION', 'SCHEDULE', 'NEXT RUN', 'LAST RESULT', 'PRIORITY'],
      tasks.map((t) => [
        t.id,
        t.action,
        `${t.schedule ?? 'manual'}${t.enabled ? '' : ' (disabled)'}${t.paused ? ' PAUSED' : ''}`,
        t.nextRunAt === null
          ? '-'
          : `${when(t.nextRunAt, t.timezone, t.seconds)} (${relative(t.nextRunAt, now)})`,
        t.lastStatus ? `${t.lastStatus} ${relative(t.lastFinishedAt, now)}` : 'never ran',
        `${t.priority} (${t.score.toFixed(1)})`,
      ]),
    ),
  );
  const paused = tasks.filter((t) => t.paused !== null);
  if (paused.length > 0) {
    io.out('\npaused (caretaker resume ID lets a task run again):');
    io.out(
      table(
        ['TASK', 'PAUSED'],
        paused.map((t) => [t.id, pauseLine(t.paused!, now)]),
      ),
    );
  }
  return 0;
}

export async function analyzePriorityCommand(id: string, opts: GlobalOptions, io: Io): Promise<number> {
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    const p = await caretaker.priority(id);
    if (opts.json) {
      printJson(io, { task: id, ...p });
      return 0;
    }
    io.out(`priority of ${id}: ${p.score.toFixed(2)}`);
    io.out(`  = (${p.terms.map((t) => `${t.name} ${t.value.toFixed(1)}×${t.weight}`).join(' + ')})`);
    io.out(
      `    × category ${p.category ?? '(none)'} ${p.categoryMultiplier} × priority ${p.priority} ${p.priorityAdjustment}`,
    );
    io.out('');
    io.out(
      table(
        ['TERM', 'VALUE', 'WEIGHT', 'CONTRIBUTES', 'WHY'],
        [
          ...p.terms.map((t) => [
            t.name,
            t.value.toFixed(1),
            String(t.weight),
            t.contribution.toFixed(2),
            t.why,
          ]),
          ['(sum)', '', '', p.base.toFixed(2), ''],
          ['category', '', `×${p.categoryMultiplier}`, '', p.category ?? 'no category'],
          ['priority', '', `×${p.priorityAdjustment}`, '', p.priority],
          ['score', '', '', p.score.toFixed(2), ''],
        ],
      ),
    );
    return 0;
  } finally {
    await caretaker.close();
  }
}
