/**
 * `verify-backups`: re-reads archives (all of a destination, the newest N, or a rotating slice
 * of them) and checks every checksum; optionally runs a restore drill of the newest archive.
 */
import { plural } from '../core/plural.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { fnv1a } from '../core/stable-hash.js';
import { listArchiveFiles, type ArchiveFile } from '../backup/archive-name.js';
import { writeFileAtomicSync } from '../os/atomic-write.js';
import { drill, type DrillResult } from '../backup/drill.js';
import { toolRunner } from '../backup/tool-runner.js';
import { checkArchive, describeProblems } from '../backup/verify-archive.js';
import { writeVerifyState } from '../backup/verify-state.js';
import { runInProcessGroup } from '../os/process-group.js';
import { defineAction, type ActionContext } from './types.js';
import { AgeError, parseIdentities, readIdentityFile } from '../backup/age-stream.js';
import { listRemote } from '../backup/offsite.js';
import { verifyRemote } from '../backup/offsite-verify.js';
import type { CopyTarget } from '../backup/copy-target.js';
import { openTarget } from '../backup/copy-targets.js';
import { verifyBackupsDeclaration } from './verify-backups/declaration.js';
import type { schema } from './verify-backups/schema.js';

type Options = z.output<typeof schema>;

interface SubsetState {
  next: number;
}

function subsetSlice(ctx: ActionContext, total: number): number {
  try {
    const s = JSON.parse(readFileSync(join(ctx.taskStateDir, 'verify-subset.json'), 'utf8')) as SubsetState;
    return Number.isInteger(s.next) ? ((s.next % total) + total) % total : 0;
  } catch {
    return 0;
  }
}

function saveSlice(ctx: ActionContext, next: number): void {
  mkdirSync(ctx.taskStateDir, { recursive: true });
  writeFileAtomicSync(join(ctx.taskStateDir, 'verify-subset.json'), `${JSON.stringify({ next })}\n`);
}

async function runDrill(ctx: ActionContext, o: Options, archive: ArchiveFile): Promise<DrillResult> {
  const parentDir = o.drill_dir ? ctx.resolvePath(o.drill_dir) : tmpdir();
  mkdirSync(parentDir, { recursive: true });
  // pg_restore --list prints the whole table of contents: kept out of the output (its errors
  // still reach the summary).
  const runTool = toolRunner({ ...ctx, cwd: ctx.baseDir }, []);
  const check = o.drill_command
    ? async (dir: string) => {
        const r = await runInProcessGroup({
          command: o.drill_command!,
          cwd: dir,
          env: { ...process.env, CARETAKER_RESTORE_DIR: dir, CARETAKER_ARCHIVE: archive.path },
          signal: ctx.signal,
          killGraceMs: ctx.killGraceMs,
          clock: ctx.clock,
          onOutput: (t) => ctx.output(t),
        });
        if (r.exitCode === 0) return undefined;
        return `drill_command ${r.spawnError ?? (r.exitCode === null ? 'was killed' : `exited with ${r.exitCode}`)}`;
      }
    : undefined;
  return drill(archive.path, { parentDir, check, runTool, signal: ctx.signal });
}

type CopyCheckOptions = NonNullable<Options['copy']>;

/** Streams the newest archive(s) of a copy and checks them; one line for the summary. */
async function verifyCopy(
  ctx: ActionContext,
  c: CopyCheckOptions,
  task: string | undefined,
): Promise<{ ok: boolean; line: string; archives: string[] }> {
  let t: CopyTarget | undefined;
  try {
    t = openTarget(c, { env: process.env, baseDir: ctx.baseDir });
    let ids: string[] | undefined;
    if (c.identity_file) ids = readIdentityFile(ctx.resolvePath(c.identity_file));
    else if (c.identity_env) {
      const v = process.env[c.identity_env];
      if (!v) throw new AgeError(`identity_env: environment variable ${c.identity_env} is not set`);
      ids = parseIdentities(v, `environment variable ${c.identity_env}`);
    }
    const remote = (await listRemote(t, task)).slice(0, c.latest ?? 1);
    if (remote.length === 0)
      return { ok: false, line: `copy ${t.url} holds no complete archive`, archives: [] };
    const bad: string[] = [];
    let blind = 0;
    for (const a of remote) {
      const r = await verifyRemote(t, a, ids, { signal: ctx.signal });
      if (!r.ok) bad.push(`${a.name}: ${r.problems[0] ?? 'unknown problem'}`);
      if (!r.lookedInside) blind++;
    }
    const names = remote.map((a) => a.name);
    if (bad.length)
      return {
        ok: false,
        line: `copy ${t.url}: ${bad.length} of ${remote.length} FAILED: ${bad[0]}`,
        archives: names,
      };
    return {
      ok: true,
      line: `copy ${t.url}: verified ${plural(remote.length, 'archive')}${blind ? ' (ciphertext checksum only: no identity)' : ''}`,
      archives: names,
    };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = err instanceof AgeError ? err.message : t ? t.describeError(err) : (err as Error).message;
    return {
      ok: false,
      line: /^(copy |s3:\/\/|sftp:\/\/)/.test(why) ? why : `copy ${t?.url ?? c.to}: ${why}`,
      archives: [],
    };
  } finally {
    t?.close();
  }
}

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
    let chosen = pool;
    let sliceText: string | undefined;
    let slice = 0;
    let parts = 1;
    if (o.subset) {
      parts = Number(o.subset.slice(2));
      slice = subsetSlice(ctx, parts);
      chosen = pool.filter((a) => fnv1a(a.name) % parts === slice);
      sliceText = `slice ${slice + 1}/${parts}`;
    }
    if (ctx.dryRun) {
      const plan = chosen.map((a) => `verify ${a.path} (${formatSize(a.size)})`);
      if (o.drill)
        plan.push(
          `restore ${all[0]!.name} into a temp dir and check it${o.drill_command ? ', then run the drill command there' : ''}`,
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
    if (o.subset) saveSlice(ctx, slice + 1);
    const copyResult = o.copy ? await verifyCopy(ctx, o.copy, o.task) : undefined;
    const drillResult = o.drill ? await runDrill(ctx, o, all[0]!) : undefined;
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
