/**
 * `verify-backups`: re-reads archives (all of a destination, the newest N, or a rotating slice
 * of them) and checks every checksum; optionally runs a restore drill of the newest archive.
 */
import { plural } from '../core/plural.js';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { listArchiveFiles } from '../backup/archive-name.js';
import { readSidecar } from '../backup/manifest.js';
import { checkArchive, describeProblems } from '../backup/verify-archive.js';
import { writeVerifyState } from '../backup/verify-state.js';
import { defineAction } from './types.js';
import { verifyBackupsDeclaration } from './verify-backups/declaration.js';
import { verifyCopy } from './verify-backups/copy.js';
import { runDrill } from './verify-backups/run-drill.js';
import {
  currentSlice,
  inSlice,
  saveNextSlice,
  sliceText as describeSlice,
  type Slice,
} from './verify-backups/slice.js';

export const verifyBackupsAction = defineAction({
  ...verifyBackupsDeclaration,
  async run(ctx, o) {
    const dest = ctx.resolvePath(o.dest);
    const all = listArchiveFiles(dest, o.task);
    if (all.length === 0)
      return {
        ok: false,
        summary: `no archives${o.task ? ` of ${o.task}` : ''} in ${dest}: are the backups running?`,
      };
    const pool = o.latest ? all.slice(0, o.latest) : all;
    const slice: Slice | undefined = o.subset ? currentSlice(ctx, o.subset) : undefined;
    const chosen = slice ? inSlice(pool, slice) : pool;
    const sliceText = slice ? describeSlice(slice) : undefined;
    if (ctx.dryRun) {
      const plan = chosen.map((a) => `verify ${a.path} (${formatSize(a.size)})`);
      if (o.drill)
        plan.push(
          `restore ${all[0]!.name} into a temp dir and check it${o.drill_command ? ', then run the drill command there' : ''}`,
        );
      if (o.copy)
        plan.push(
          `verify ${sliceText ? `${sliceText} of the archives` : `the newest ${plural(o.copy.latest ?? 1, 'archive')}`} of copy ${o.copy.to}` +
            (o.copy.drill ? ', and restore its newest archive into a temp dir and check it' : ''),
        );
      return {
        ok: true,
        summary: `would verify ${chosen.length} of ${all.length} archives${sliceText ? ` (${sliceText})` : ''}${o.drill ? ' and run a restore drill' : ''}`,
        changed: false,
        plan,
      };
    }
    const started = performance.now();
    const totalBytes = chosen.reduce((s, a) => s + a.size, 0);
    let doneBytes = 0;
    let lastReport = 0;
    const results = [];
    for (const a of chosen) {
      const check = await checkArchive(a.path, {
        signal: ctx.signal,
        onProgress: (done) => {
          const now = performance.now();
          if (now - lastReport < 100) return;
          lastReport = now;
          ctx.progress({ done: doneBytes + done, total: totalBytes, unit: 'bytes', label: a.name });
        },
      });
      doneBytes += a.size;
      const problems = describeProblems(check);
      try {
        writeVerifyState(a.path, {
          at: new Date(ctx.clock.now()).toISOString(),
          ok: check.ok,
          scope: 'full',
          by: 'verify-backups',
          problems,
        });
      } catch (err) {
        ctx.logger.warn({ err, archive: a.path }, 'could not record the verification');
      }
      results.push({ name: a.name, ok: check.ok, entries: check.entries, bytes: a.size, problems });
      if (!check.ok) ctx.output(`${a.name}: FAILED\n  ${problems.join('\n  ')}\n`);
    }
    if (slice) saveNextSlice(ctx, slice);
    const copyResult = o.copy
      ? await verifyCopy(ctx, o, {
          task: o.task,
          slice,
          localSidecar: (name) => {
            const local = all.find((a) => a.name === name);
            return local ? readSidecar(local.path) : undefined;
          },
        })
      : undefined;
    const drillResult = o.drill ? await runDrill(ctx, o, all[0]!.path) : undefined;
    const failed = results.filter((r) => !r.ok);
    const took = formatDuration(performance.now() - started);
    const mbps = totalBytes / 1024 / 1024 / Math.max(0.001, (performance.now() - started) / 1000);
    let summary =
      chosen.length === 0
        ? `${sliceText} holds no archive this run (${all.length} archive${all.length === 1 ? '' : 's'} in all)`
        : failed.length === 0
          ? `verified ${results.length} archive${results.length > 1 ? 's' : ''} (${formatSize(totalBytes)}) in ${took}${sliceText ? ` (${sliceText})` : ''}: every checksum matches`
          : `${failed.length} of ${results.length} archives FAILED verification: ${failed[0]!.name}: ${failed[0]!.problems[0] ?? 'unknown problem'}`;
    if (copyResult) summary += `; ${copyResult.line}`;
    if (drillResult)
      summary += drillResult.ok
        ? `; restore drill of ${drillResult.archive.split('/').pop()} passed (${plural(drillResult.files, 'file')})`
        : `; restore drill FAILED: ${drillResult.failure}`;
    return {
      ok: failed.length === 0 && (drillResult?.ok ?? true) && (copyResult?.ok ?? true),
      summary,
      changed: false,
      issuesFound:
        failed.length + (drillResult && !drillResult.ok ? 1 : 0) + (copyResult && !copyResult.ok ? 1 : 0),
      details: {
        dest,
        checked: results.length,
        failed: failed.length,
        bytes: totalBytes,
        mbPerSecond: Number(mbps.toFixed(1)),
        subset: sliceText ?? null,
        archives: results,
        drill: drillResult ?? null,
        copy: copyResult ?? null,
      },
    };
  },
});
