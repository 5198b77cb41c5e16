/** health [TASK...]: run the health checks now and print the report (exit 1 on fail, 0 on ok/warn). */
import type { HealthReport, RunRecord } from '../../caretaker.js';
import { renderHealthMarkdown, renderHealthText } from '../../report/health-report.js';
import { writeReportFile } from '../../report/report-files.js';
import { findDaemon } from '../../server/client.js';
import { UsageError } from '../../errors/usage-error.js';
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';

export async function healthCommand(
  ids: string[],
  opts: GlobalOptions & { markdown?: boolean; output?: string },
  io: Io,
): Promise<number> {
  const caretaker = await openCaretaker(opts);
  let report: HealthReport;
  try {
    const tasks = await caretaker.healthTasks(ids);
    if (tasks.length === 0)
      throw new UsageError(
        'no health tasks are configured; add a task with action: health to the configuration',
      );
    const daemon = await findDaemon(caretaker.config.stateDir);
    if (daemon) {
      // The daemon runs them, so they land in its history and its alerts see them.
      const runs = await Promise.all(
        tasks.map((id) =>
          daemon.call<RunRecord>('POST', `/v1/tasks/${encodeURIComponent(id)}/runs`, { wait: true }),
        ),
      );
      report = await caretaker.healthReport(runs);
    } else {
      report = await caretaker.health(tasks);
    }
  } finally {
    await caretaker.close();
  }
  const md = renderHealthMarkdown(report);
  if (opts.output) writeReportFile(opts.output, md);
  if (opts.json) printJson(io, report);
  else io.out(opts.markdown ? md : renderHealthText(report));
  return report.status === 'fail' ? 1 : 0;
}
