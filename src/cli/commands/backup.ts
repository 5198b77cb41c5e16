/** backup list | verify [ARCHIVE]: the archives of the configured backup tasks, and their checks. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinRegistry } from '../../actions/builtin.js';
import { catalog, findArchive, type BackupDest, type CatalogEntry } from '../../backup/catalog.js';
import { listArchiveFiles, type ArchiveFile } from '../../backup/archive-name.js';
import { checkArchive, describeProblems, type ArchiveCheck } from '../../backup/verify-archive.js';
import { writeVerifyState } from '../../backup/verify-state.js';
import { loadConfigFile } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { formatDuration } from '../../core/duration.js';
import { formatSize } from '../../core/size.js';
import { UsageError } from '../../errors/usage-error.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { relative, table } from '../format.js';
import { ProgressBar } from '../progress-bar.js';

export interface DestOptions extends GlobalOptions {
  readonly dest?: string;
  readonly task?: string;
}

/** The configuration when there is one: restoring on a fresh host needs only the archive. */
export function optionalConfig(opts: GlobalOptions): Config | undefined {
  const path = configPath(opts);
  if (!opts.config && !existsSync(path)) return undefined;
  return loadConfigFile(path, { registry: builtinRegistry() });
}

/** Where to look: --dest, else the dest of every backup (and verify-backups) task in the config. */
export function backupDests(opts: DestOptions, config: Config | undefined): BackupDest[] {
  if (opts.dest) return [{ task: opts.task, dest: resolve(opts.dest) }];
  if (!config) throw new UsageError('no caretaker.yaml here: pass --dest DIR, -c CONFIG, or an archive path');
  const out: BackupDest[] = [];
  for (const t of config.tasks) {
    if (t.action !== 'backup' && t.action !== 'verify-backups') continue;
    const o = t.options as { dest: string; task?: string };
    const task = t.action === 'backup' ? t.id : o.task;
    if (opts.task !== undefined && task !== undefined && task !== opts.task) continue;
    out.push({ task: opts.task ?? task, dest: resolve(config.dir, o.dest) });
  }
  if (out.length === 0)
    throw new UsageError(
      opts.task
        ? `no backup task "${opts.task}" in ${config.file}`
        : `no backup tasks in ${config.file}; pass --dest DIR`,
    );
  return out;
}

function verifiedText(e: CatalogEntry, now: number): string {
  if (e.sidecar !== 'ok') return e.sidecar === 'missing' ? 'no sidecar' : 'sidecar unreadable';
  if (!e.verified) return 'never';
  const at = Date.parse(e.verified.at);
  return `${e.verified.ok ? 'ok' : 'FAILED'} ${relative(at, now)}`;
}

export async function backupListCommand(opts: DestOptions, io: Io): Promise<number> {
  const entries = catalog(backupDests(opts, optionalConfig(opts)));
  if (opts.json) {
    printJson(io, entries);
    return 0;
  }
  if (entries.length === 0) {
    io.out('no archives yet');
    return 0;
  }
  const now = Date.now();
  io.out(
    table(
      ['ARCHIVE', 'TASK', 'SIZE', 'AGE', 'FILES', 'VERIFIED'],
      entries.map((e) => [
        e.name,
        e.task,
        formatSize(e.size),
        relative(e.time, now).replace(/ ago$/, ''),
        e.files === undefined ? '-' : String(e.files),
        verifiedText(e, now),
      ]),
    ),
  );
  const failed = entries.filter((e) => e.verified && !e.verified.ok);
  if (failed.length > 0)
    io.err(`${failed.length} archive(s) failed their last verification: caretaker backup verify NAME`);
  return 0;
}

export interface VerifyCommandOptions extends DestOptions {
  readonly all?: boolean;
}

async function verifyOne(a: ArchiveFile, bar: ProgressBar): Promise<{ check: ArchiveCheck; ms: number }> {
  const started = performance.now();
  const check = await checkArchive(a.path, {
    onProgress: (done, total) => bar.update({ done, total, unit: 'bytes', label: a.name }),
  });
  bar.done();
  const ms = performance.now() - started;
  try {
    writeVerifyState(a.path, {
      at: new Date().toISOString(),
      ok: check.ok,
      scope: 'full',
      by: 'cli',
      problems: describeProblems(check),
    });
  } catch {
    // A read-only backup volume: the check still counts, it is only not remembered.
  }
  return { check, ms };
}

export async function backupVerifyCommand(
  archive: string | undefined,
  opts: VerifyCommandOptions,
  io: Io,
): Promise<number> {
  let targets: ArchiveFile[];
  if (archive !== undefined) {
    const config =
      opts.dest || !/^[^/]+$/.test(archive) || existsSync(archive) ? undefined : optionalConfig(opts);
    const dests = opts.dest || config ? backupDests(opts, config) : [];
    const found = findArchive(archive, dests);
    if (!found)
      throw new UsageError(
        `no archive ${archive}${dests.length ? ` in ${dests.map((d) => d.dest).join(', ')}` : ''}`,
      );
    targets = [found];
  } else {
    const dests = backupDests(opts, optionalConfig(opts));
    targets = [];
    for (const d of dests) {
      const list = listArchiveFiles(d.dest, d.task);
      targets.push(...(opts.all ? list : list.slice(0, 1)));
    }
    targets = [...new Map(targets.map((t) => [t.path, t])).values()];
    if (targets.length === 0) throw new UsageError(`no archives in ${dests.map((d) => d.dest).join(', ')}`);
  }
  const bar = new ProgressBar();
  const results: {
    archive: string;
    ok: boolean;
    entries: number;
    bytes: number;
    ms: number;
    problems: string[];
  }[] = [];
  for (const t of targets) {
    const { check, ms } = await verifyOne(t, bar);
    const problems = describeProblems(check, 20);
    results.push({
      archive: t.path,
      ok: check.ok,
      entries: check.entries,
      bytes: t.size,
      ms: Math.round(ms),
      problems,
    });
    if (opts.json) continue;
    const speed = `${formatSize(Math.round(t.size / Math.max(ms / 1000, 0.001)))}/s`;
    io.out(
      `${check.ok ? 'ok    ' : 'FAILED'}  ${t.name}  ${check.entries} entries, ${formatSize(t.size)} in ${formatDuration(ms)} (${speed})`,
    );
    for (const p of problems) io.out(`        ${p}`);
  }
  if (opts.json) printJson(io, results);
  return results.every((r) => r.ok) ? 0 : 1;
}
