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
  const backups = await backupsOf(opts);
  const entries = backups.list();
  const copies = await backups.listCopies();
  const copyFailed = copies.filter((c) => c.error !== undefined);
  const failedLine = (c: (typeof copies)[number]) =>
    `cannot list copy ${c.error!.startsWith('copy ') ? c.error!.slice(5) : `${c.where}: ${c.error}`}`;
  if (opts.json) {
    // One array whatever is configured: the local archives, then each copy's, each saying where.
    for (const c of copyFailed) io.err(failedLine(c));
    printJson(io, [
      ...entries.map((e) => ({ ...e, where: 'local' })),
      ...copies.flatMap((c) => c.archives.map((a) => ({ ...a, where: c.where }))),
    ]);
    return copyFailed.length ? 1 : 0;
  }
  const now = Date.now();
  // A configuration whose backups keep no local archive (copies only) has no local list to show.
  const local = entries.length > 0 || copies.length === 0 || backups.dests().length > 0;
  if (entries.length > 0) printLocal(entries, now, io);
  else if (local) io.out('no archives yet');
  if (copies.length > 0) {
    const rows = copies.flatMap((c) =>
      c.archives.map((a) => [
        a.name,
        c.where,
        formatSize(a.size),
        relative(a.time, now).replace(/ ago$/, ''),
        a.encrypted ? 'age' : '-',
      ]),
    );
    if (local) io.out('');
    if (rows.length > 0) io.out(table(['COPY OF', 'WHERE', 'SIZE', 'AGE', 'ENCRYPTED'], rows));
    for (const c of copies) if (!c.error && c.archives.length === 0) io.out(`no archives in ${c.where} yet`);
    for (const c of copyFailed) io.err(failedLine(c));
  }
  return copyFailed.length ? 1 : 0;
}

function printLocal(entries: Entry[], now: number, io: Io): void {
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
}

export interface VerifyCommandOptions extends DestOptions {
  readonly all?: boolean;
  readonly identity?: string;
}

async function verifyCopyCommand(url: string, opts: VerifyCommandOptions, io: Io): Promise<number> {
  const bar = new ProgressBar();
  let r;
  try {
    r = await (
      await backupsOf(opts)
    ).verifyCopy(url, opts.identity, (done, total, label) =>
      bar.update({ done, total, unit: 'bytes', label }),
    );
  } finally {
    bar.done();
  }
  if (opts.json) {
    printJson(io, [
      {
        archive: r.archive.url,
        ok: r.ok,
        lookedInside: r.lookedInside,
        entries: r.entries,
        bytes: r.archive.size,
        ms: Math.round(r.ms),
        problems: r.problems,
      },
    ]);
    return r.ok ? 0 : 1;
  }
  io.out(
    `${r.ok ? 'ok    ' : 'FAILED'}  ${r.archive.url}  ${r.lookedInside ? `${plural(r.entries, 'entry', 'entries')}, ` : ''}${formatSize(r.archive.size)} in ${formatDuration(r.ms)}`,
  );
  for (const p of r.problems) io.out(`        ${p}`);
  if (r.ok && !r.lookedInside)
    io.out(
      '        the ciphertext matches its checksum; without the key (--identity FILE) the contents were not checked',
    );
  return r.ok ? 0 : 1;
}

export async function backupVerifyCommand(
  archive: string | undefined,
  opts: VerifyCommandOptions,
  io: Io,
): Promise<number> {
  if (archive !== undefined && /^(s3|sftp):\/\//.test(archive)) return verifyCopyCommand(archive, opts, io);
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
