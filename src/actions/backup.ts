/**
 * `backup`: a timestamped tar.gz of files, directories and globs, with consistent copies of
 * SQLite and PostgreSQL databases, a checksum manifest (inside and beside the archive), a
 * verification read-back, and restic-style retention.
 */
import { plural } from '../core/plural.js';
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { expandPaths } from '../safety/expand-paths.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import { archiveName } from '../backup/archive-name.js';
import { backupDeclaration } from './backup/declaration.js';
import { excludeMatcher, postgresSources, recentRatio, type BackupOptions } from './backup/options.js';
import { findLeftovers, planPrune, removeArchive } from '../backup/prune-archives.js';
import { PgToolError, type PgSource } from '../backup/postgres.js';
import { toolRunner } from '../backup/tool-runner.js';
import { MissingRootError, walkTree } from '../backup/tree-walk.js';
import { BackupError, skipRule, writeArchive } from '../backup/write-archive.js';
import { SqliteCopyError } from '../backup/sqlite-copy.js';
import { VERSION } from '../version.js';
import { readSidecar } from '../backup/manifest.js';
import { shipCopies } from './backup/copies.js';
import { backupToCopies, whatWasBackedUp } from './backup/streamed.js';
import { runInProcessGroup } from '../os/process-group.js';
import { defineAction, type ActionContext, type ActionResult } from './types.js';

const LEFTOVER_IDLE_MS = 60 * 60 * 1000;
const POST_AFTER_ABORT_MS = 60_000;

async function runHook(
  ctx: ActionContext,
  which: 'pre' | 'post',
  cmd: string | string[],
  env: Record<string, string>,
) {
  const shown = typeof cmd === 'string' ? cmd : cmd.join(' ');
  const r = await runInProcessGroup({
    command: cmd,
    cwd: ctx.baseDir,
    env: { ...process.env, CARETAKER_TASK: ctx.taskId, CARETAKER_RUN_ID: String(ctx.runId), ...env },
    // `post` often undoes `pre` (restarts what it stopped): it runs even after a timeout, with
    // a minute of its own.
    signal: which === 'post' && ctx.signal.aborted ? AbortSignal.timeout(POST_AFTER_ABORT_MS) : ctx.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onOutput: (t) => ctx.output(t),
  });
  if (r.exitCode === 0) return undefined;
  return `${which} command \`${shown}\` ${r.spawnError ?? (r.exitCode === null ? `was killed (${r.signal ?? 'signal'})` : `exited with ${r.exitCode}`)}`;
}

interface Resolved {
  /** undefined: no local copy, the archive streams to the copies. */
  readonly dest: string | undefined;
  readonly roots: string[];
  /** Globs that matched nothing: reported as warnings. */
  readonly notices: string[];
  readonly sqlite: string[];
  readonly postgres: PgSource[];
  readonly isExcluded: (abs: string) => boolean;
}

async function resolveSources(ctx: ActionContext, o: BackupOptions): Promise<Resolved> {
  const guard = new PathGuard({ stateDir: ctx.stateDir });
  const dest = o.dest === undefined ? undefined : ctx.resolvePath(o.dest);
  if (dest !== undefined) guard.assertRoot(dest, 'dest');
  const roots: string[] = [];
  const notices: string[] = [];
  for (const pattern of o.paths ?? []) {
    const found = await expandPaths([pattern], { baseDir: ctx.baseDir, directories: true });
    if (found.length === 0) notices.push(`paths: ${pattern} matches nothing`);
    roots.push(...found);
  }
  for (const root of roots) {
    if (root === '/')
      throw new UnsafePathError('paths: refusing to back up / as a whole; list the directories to back up');
    if (guard.isProtected(root)) throw new UnsafePathError(`paths: ${root} is caretaker's own state dir`);
  }
  const sqlite = (o.sqlite ?? []).map((p) => ctx.resolvePath(p));
  return {
    dest,
    roots: [...new Set(roots)].sort(),
    notices,
    sqlite,
    postgres: postgresSources(o),
    isExcluded: excludeMatcher(o.exclude ?? [], ctx.baseDir),
  };
}

async function dryRun(ctx: ActionContext, o: BackupOptions, r: Resolved): Promise<ActionResult> {
  const walk = await walkTree({
    roots: r.roots,
    isExcluded: r.isExcluded,
    isSkipped: skipRule(r.dest ?? ctx.stateDir, [ctx.stateDir], r.sqlite),
    signal: ctx.signal,
  });
  const name = archiveName(ctx.taskId, ctx.clock.now(), o.compression !== 'none');
  const files = walk.entries.filter((e) => e.type === 'file').length;
  const plan = [
    ...(o.pre ? [`run pre command: ${typeof o.pre === 'string' ? o.pre : o.pre.join(' ')}`] : []),
    `archive ${plural(files, 'file')} (${formatSize(walk.bytes)}) from ${r.roots.join(', ') || '(no paths)'} ${r.dest ? `into ${r.dest}/${name}` : `as ${name}, streamed to the copies (no local copy)`}`,
    ...r.sqlite.map((db) => `copy SQLite database ${db} with the online backup API`),
    ...r.postgres.map((p) => `dump PostgreSQL ${p.shown} with pg_dump --format=custom`),
    ...(o.verify === false || !r.dest ? [] : ['re-read the archive and check every checksum']),
  ];
  if (o.keep && r.dest) {
    const prune = planPrune(r.dest, ctx.taskId, o.keep);
    // The new archive would be the newest and kept; the plan is over what exists now plus it.
    for (const a of prune.remove) plan.push(`remove ${a.name} (not kept by ${JSON.stringify(o.keep)})`);
  }
  for (const c of o.copies ?? [])
    plan.push(
      `${r.dest ? 'upload' : 'stream'} the archive${o.encrypt ? ' age-encrypted' : ''} and its manifest to ${c.to}${c.keep ? `, then apply ${JSON.stringify(c.keep)} there` : ''}`,
    );
  if (!r.dest && o.verify !== false) plan.push('read each copy back and check its size and SHA-256');
  if (o.post) plan.push(`run post command: ${typeof o.post === 'string' ? o.post : o.post.join(' ')}`);
  return {
    ok: true,
    summary:
      `would back up ${plural(files, 'file')} (${formatSize(walk.bytes)})` +
      (r.sqlite.length + r.postgres.length > 0
        ? ` and ${plural(r.sqlite.length + r.postgres.length, 'database')}`
        : '') +
      ` to ${r.dest ? `${r.dest}/${name}` : plural(o.copies?.length ?? 0, 'copy', 'copies')}`,
    changed: false,
    plan,
    details: { files, bytesIn: walk.bytes, dest: r.dest },
  };
}

export const backupAction = defineAction({
  ...backupDeclaration,
  async run(ctx, o) {
    let r: Resolved;
    try {
      r = await resolveSources(ctx, o);
    } catch (err) {
      if (err instanceof UnsafePathError || err instanceof PgToolError)
        return { ok: false, summary: err.message };
      throw err;
    }
    if (ctx.dryRun) {
      try {
        return await dryRun(ctx, o, r);
      } catch (err) {
        if (err instanceof MissingRootError) return { ok: false, summary: `paths: ${err.message}` };
        throw err;
      }
    }
    const started = performance.now();
    const runStart = Date.now();
    for (const left of r.dest ? findLeftovers(r.dest, ctx.taskId, Date.now(), LEFTOVER_IDLE_MS) : []) {
      ctx.logger.warn({ path: left }, 'removing what an interrupted backup left behind');
      rmSync(left, { recursive: true, force: true });
    }
    const hookEnv: Record<string, string> = r.dest ? { CARETAKER_BACKUP_DEST: r.dest } : {};
    if (o.pre) {
      const failed = await runHook(ctx, 'pre', o.pre, hookEnv);
      if (failed) {
        const postFailed = o.post
          ? await runHook(ctx, 'post', o.post, { ...hookEnv, CARETAKER_BACKUP_STATUS: 'failed' })
          : undefined;
        return {
          ok: false,
          summary: `${failed}; no backup was made`,
          warnings: postFailed ? [postFailed] : undefined,
        };
      }
    }
    let lastReport = 0;
    let outcome: ActionResult | undefined;
    let error: unknown;
    let archivePath = '';
    const onProgress = (done: number, total: number, label: string) => {
      const now = performance.now();
      if (now - lastReport < 100 && done < total) return;
      lastReport = now;
      ctx.progress({ done, total, unit: 'bytes', label });
    };
    // What goes into the archive and how, the same whether it is written locally or streamed.
    const source = {
      task: ctx.taskId,
      host: ctx.host,
      version: VERSION,
      time: ctx.clock.now(),
      roots: r.roots,
      isExcluded: r.isExcluded,
      protectedDirs: [ctx.stateDir],
      sqlite: r.sqlite,
      postgres: r.postgres,
      compression: o.compression ?? 6,
      parallel: o.threads ?? Math.min(availableParallelism(), 4),
      signal: ctx.signal,
      runTool: toolRunner({ ...ctx, cwd: ctx.baseDir, onOutput: (t) => ctx.output(t) }, r.postgres),
      onProgress,
    };
    try {
      if (!r.dest) {
        const streamed = await backupToCopies(ctx, o, { ...source, stagingParent: ctx.stateDir }, runStart);
        archivePath = streamed.archiveName ?? '';
        const { archiveName: _name, ...result } = streamed;
        outcome = r.notices.length
          ? { ...result, warnings: [...r.notices, ...(result.warnings ?? [])] }
          : result;
      } else {
        const result = await writeArchive({
          ...source,
          dest: r.dest,
          verify: o.verify ?? true,
          ratioHint: await recentRatio(ctx),
        });
        archivePath = result.path;
        const pruned: string[] = [];
        let bytesFreed = 0;
        if (o.keep) {
          const plan = planPrune(r.dest, ctx.taskId, o.keep);
          for (const a of plan.remove) {
            if (a.path === result.path) continue; // never the archive just written
            bytesFreed += removeArchive(a);
            pruned.push(a.name);
          }
        }
        const copies = o.copies?.length
          ? await shipCopies(ctx, o, { path: result.path, sidecar: readSidecar(result.path)! }, runStart)
          : [];
        const failedCopies = copies.filter((c) => !c.ok);
        const durationMs = performance.now() - started;
        const ratio = result.bytesIn > 0 ? result.bytesOut / result.bytesIn : 1;
        outcome = {
          ok: failedCopies.length === 0,
          summary:
            (failedCopies.length
              ? `${failedCopies.map((c) => c.line).join('; ')} — ${plural(failedCopies.length, 'copy', 'copies')} of ${copies.length} failed; the local archive is kept. `
              : '') +
            `backed up ${whatWasBackedUp(result.files, result.databases)}` +
            ` (${formatSize(result.bytesIn)} → ${formatSize(result.bytesOut)}, ${(ratio * 100).toFixed(0)}%) to ${result.path}` +
            ` in ${formatDuration(durationMs)}${result.verified ? ', verified' : ''}` +
            (pruned.length ? `; pruned ${pruned.length} old archive${pruned.length > 1 ? 's' : ''}` : '') +
            (copies.some((c) => c.ok)
              ? `; ${copies
                  .filter((c) => c.ok)
                  .map((c) => c.line)
                  .join('; ')}`
              : ''),
          changed: true,
          warnings:
            result.warnings.length + r.notices.length ? [...r.notices, ...result.warnings] : undefined,
          bytesFreed,
          details: {
            archive: result.path,
            files: result.files,
            dirs: result.dirs,
            symlinks: result.symlinks,
            databases: result.databases,
            bytesIn: result.bytesIn,
            bytesOut: result.bytesOut,
            ratio: Number(ratio.toFixed(4)),
            durationMs: Math.round(durationMs),
            sha256: result.sha256,
            verified: result.verified,
            pruned,
            ...(copies.length ? { copies } : {}),
          },
        };
      }
    } catch (err) {
      if (ctx.signal.aborted) error = err;
      else if (
        err instanceof BackupError ||
        err instanceof MissingRootError ||
        err instanceof PgToolError ||
        err instanceof SqliteCopyError
      )
        outcome = {
          ok: false,
          summary: err instanceof MissingRootError ? `paths: ${err.message}` : err.message,
          changed: false,
        };
      else error = err;
    }
    if (o.post) {
      const failed = await runHook(ctx, 'post', o.post, {
        ...hookEnv,
        CARETAKER_BACKUP_STATUS: outcome?.ok ? 'ok' : 'failed',
        CARETAKER_BACKUP_ARCHIVE: archivePath,
      });
      if (failed && outcome) outcome = { ...outcome, warnings: [...(outcome.warnings ?? []), failed] };
      else if (failed) ctx.output(`${failed}\n`);
    }
    if (!outcome) throw error;
    return outcome;
  },
});
