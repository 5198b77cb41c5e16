/** list-rollbacks [--task ID] and rollback ID --reason TEXT [--dry-run]. */
import { pointTask, restoreDetail } from '../../core/rollback-audit.js';
import { auditedByCli } from './access.js';
import { formatSize } from '../../core/size.js';
import { UsageError } from '../../errors/usage-error.js';
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { oneLine, relative, table } from '../format.js';
import { plural } from '../../core/plural.js';

export async function listRollbacksCommand(opts: GlobalOptions & { task?: string }, io: Io): Promise<number> {
  const caretaker = await openCaretaker(opts);
  try {
    if (opts.task !== undefined && !caretaker.config.tasks.some((t) => t.id === opts.task)) {
      const ids = caretaker.config.tasks.map((t) => t.id);
      throw new UsageError(`unknown task "${opts.task}"; tasks: ${ids.join(', ') || '(none)'}`);
    }
    const points = await caretaker.listRollbacks({ task: opts.task });
    if (opts.json) {
      printJson(io, points);
      return 0;
    }
    if (points.length === 0) {
      io.out(opts.task ? `no rollback points of ${opts.task}` : 'no rollback points');
      return 0;
    }
    const now = Date.now();
    io.out(
      table(
        ['POINT', 'TASK', 'KIND', 'TAKEN', 'FILES', 'SIZE', 'GIT', 'RESTORED'],
        points.map((p) => {
          if (p.error) return [p.id, '-', '-', '-', '-', '-', '-', `damaged: ${oneLine(p.error, 60)}`];
          const last = p.restores[p.restores.length - 1];
          return [
            p.id,
            p.task ?? '-',
            p.kind,
            relative(p.createdAt, now),
            String(p.files),
            formatSize(p.bytes),
            p.git
              .map((g) => `${g.branch ?? 'detached'}@${g.head?.slice(0, 8) ?? 'none'}${g.dirty ? '*' : ''}`)
              .join(' ') || '-',
            last ? `${relative(last.at, now)}: ${oneLine(last.reason, 50)}` : '-',
          ];
        }),
      ),
    );
    return 0;
  } finally {
    await caretaker.close();
  }
}

export async function rollbackCommand(
  id: string,
  opts: GlobalOptions & { reason?: string; dryRun?: boolean },
  io: Io,
): Promise<number> {
  if (opts.reason === undefined || opts.reason.trim() === '')
    throw new UsageError('rollback needs --reason TEXT: why the files are being restored (kept in history)');
  const caretaker = await openCaretaker(opts);
  try {
    const restore = () => caretaker.rollback(id, { reason: opts.reason!, dryRun: opts.dryRun === true });
    // A dry run changes nothing: not audited.
    const { report, run } = opts.dryRun
      ? await restore()
      : await auditedByCli(
          caretaker,
          // The point's task, as from the API and the dashboard (the point is in the detail).
          { action: 'rollback', target: (await pointTask(caretaker, id)) ?? id },
          restore,
          (o) => restoreDetail(o.report.point, o.run, opts.reason!),
        );
    if (opts.json) {
      printJson(io, { ...report, run });
      return 0;
    }
    if (report.dryRun) {
      io.out(`rollback to ${report.point} (dry run): nothing was changed`);
      for (const step of report.plan) io.out(`  would: ${step}`);
      if (report.plan.length === 0) io.out('  every file is already as it was at the point');
    } else {
      io.out(
        `rolled back to ${report.point}: ${report.restored.length} restored, ${report.deleted.length} deleted, ${plural(report.dirsCreated.length, 'directory', 'directories')} recreated, ${report.unchanged} unchanged`,
      );
      if (run) io.out(`recorded as run #${run.id} of ${run.task}`);
      if (report.preRollbackPoint)
        io.out(`to undo this rollback: caretaker rollback ${report.preRollbackPoint} --reason "..."`);
    }
    for (const w of report.warnings) io.out(`warning: ${w}`);
    return 0;
  } finally {
    await caretaker.close();
  }
}
