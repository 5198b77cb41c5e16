/** backup list | verify [ARCHIVE]: the archives of the configured backup tasks, and their checks. */
import { existsSync } from 'node:fs';
import { openBackups, type BackupArchives } from '../../caretaker-tools.js';
import { formatDuration } from '../../core/duration.js';
import { formatSize } from '../../core/size.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { relative, table } from '../format.js';
import { ProgressBar } from '../progress-bar.js';
import { plural } from '../../core/plural.js';

export interface DestOptions extends GlobalOptions {
  readonly dest?: string;
  readonly task?: string;
}

/** The backups of the configuration when there is one: restoring on a fresh host needs only the archive. */
export function backupsOf(opts: DestOptions): Promise<BackupArchives> {
  const path = configPath(opts);
  const config = opts.config || existsSync(path) ? path : undefined;
  return openBackups({ configPath: config, dest: opts.dest, task: opts.task });
}

type Entry = ReturnType<BackupArchives['list']>[number];

function verifiedText(e: Entry, now: number): string {
  if (e.sidecar !== 'ok') return e.sidecar === 'missing' ? 'no sidecar' : 'sidecar unreadable';
  if (!e.verified) return 'never';
  const at = Date.parse(e.verified.at);
  return `${e.verified.ok ? 'ok' : 'FAILED'} ${relative(at, now)}`;
}

export async function backupListCommand(opts: DestOptions, io: Io): Promise<number> {
  const entries = (await backupsOf(opts)).list();
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
    io.err(
      `${plural(failed.length, 'archive')} failed their last verification: caretaker backup verify NAME`,
    );
  return 0;
}

export interface VerifyCommandOptions extends DestOptions {
  readonly all?: boolean;
}

export async function backupVerifyCommand(
  archive: string | undefined,
  opts: VerifyCommandOptions,
  io: Io,
): Promise<number> {
  const backups = await backupsOf(opts);
  const targets = archive !== undefined ? [backups.find(archive)] : backups.newest(opts.all === true);
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
    const { check, ms, problems } = await backups.verify(t, (done, total, label) =>
      bar.update({ done, total, unit: 'bytes', label }),
    );
    bar.done();
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
      `${check.ok ? 'ok    ' : 'FAILED'}  ${t.name}  ${plural(check.entries, 'entry', 'entries')}, ${formatSize(t.size)} in ${formatDuration(ms)} (${speed})`,
    );
    for (const p of problems) io.out(`        ${p}`);
  }
  if (opts.json) printJson(io, results);
  return results.every((r) => r.ok) ? 0 : 1;
}
