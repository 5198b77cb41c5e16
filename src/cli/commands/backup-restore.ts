/** backup restore ARCHIVE --to DIR [--only GLOB] [--force] [--postgres URL] [--skip-external-links] */
import { formatSize } from '../../core/size.js';
import { UsageError } from '../../errors/usage-error.js';
import { printJson, type Io } from '../context.js';
import { ProgressBar } from '../progress-bar.js';
import { backupsOf, type DestOptions } from './backup.js';
import { plural } from '../../core/plural.js';
import { auditCliChange } from './access.js';

export interface RestoreCommandOptions extends DestOptions {
  readonly to?: string;
  readonly only?: string;
  readonly force?: boolean;
  readonly postgres?: string;
  readonly skipExternalLinks?: boolean;
  readonly identity?: string;
}

export async function backupRestoreCommand(
  archive: string,
  opts: RestoreCommandOptions,
  io: Io,
): Promise<number> {
  if (!opts.to) throw new UsageError('backup restore needs --to DIR (the directory to restore into)');
  const bar = new ProgressBar();
  let result;
  try {
    result = await (
      await backupsOf(opts)
    ).restore({
      archive,
      to: opts.to,
      only: opts.only,
      force: opts.force,
      postgres: opts.postgres,
      skipExternalLinks: opts.skipExternalLinks,
      identity: opts.identity,
      onProgress: (done, total, label) => bar.update({ done, total, unit: 'bytes', label }),
    });
  } catch (err) {
    bar.done();
    const failed = {
      action: 'restore',
      target: archive,
      outcome: 'failed' as const,
      detail: (err as Error).message,
    };
    await auditCliChange(opts, failed, (line) => io.err(line));
    throw err;
  }
  bar.done();
  await auditCliChange(
    opts,
    { action: 'restore', target: archive, detail: `into ${result.root}: ${plural(result.files, 'file')}` },
    (line) => io.err(line),
  );
  if (opts.json) {
    printJson(io, {
      archive: /^(s3|sftp):\/\//.test(archive) ? archive : result.archive.path,
      to: result.scratch ? result.postgres?.url : result.root,
      files: result.files,
      dirs: result.dirs,
      symlinks: result.symlinks,
      bytes: result.bytes,
      replaced: result.replaced,
      proof: result.proof,
      skipped: result.skipped,
      externalLinks: result.externalLinks,
      postgres: result.postgres,
      run: result.run,
    });
    return 0;
  }
  if (result.scratch && result.postgres) {
    // The files went to a temp dir that is gone: only the database is the result.
    io.out(
      `restored ${result.postgres.dump.split('/').pop()} from ${result.archive.name} into ${result.postgres.url}`,
    );
    io.out(
      `${result.proof === 'sidecar' ? 'archive checksum matched its sidecar' : 'no sidecar: the archive was fully verified first'}; every file matched its SHA-256; the extracted files were removed`,
    );
    if (result.run) io.out(`recorded as run #${result.run.id} of ${result.run.task}`);
    return 0;
  }
  io.out(
    `restored ${plural(result.files, 'file')}, ${plural(result.dirs, 'directory', 'directories')}, ${plural(result.symlinks, 'link')} (${formatSize(result.bytes)}) from ${result.archive.name} into ${result.root}` +
      (result.replaced ? `; ${result.replaced} existing files replaced` : ''),
  );
  io.out(
    result.proof === 'sidecar'
      ? 'archive checksum matched its sidecar; every file matched its SHA-256'
      : 'no sidecar: the archive was fully verified first; every file matched its SHA-256',
  );
  for (const s of result.skipped) io.out(`skipped ${s.path}: ${s.why}`);
  for (const l of result.externalLinks)
    io.out(`restored ${l.path} as a link to ${l.target}, outside ${result.root} (not followed)`);
  if (result.postgres) io.out(`restored ${result.postgres.dump} into ${result.postgres.url}`);
  if (result.run) io.out(`recorded as run #${result.run.id} of ${result.run.task}`);
  else if (result.dumps.length > 0)
    io.out(
      `PostgreSQL dump${result.dumps.length > 1 ? 's' : ''} restored as file${result.dumps.length > 1 ? 's' : ''} only (${result.dumps.join(', ')}); load into a database with --postgres URL`,
    );
  return 0;
}
