/**
 * The off-host copies of a configuration's backups, for `backup list | verify | restore`: which
 * copies the backup tasks configure, the archives in them, and the key to read encrypted ones.
 */
import { resolve } from 'node:path';
import { AgeError, parseIdentities, readIdentityFile } from '../backup/age-stream.js';
import { listRemote, type RemoteArchive } from '../backup/offsite.js';
import { splitCopyUrl } from '../backup/offsite-verify.js';
import { UsageError } from '../errors/usage-error.js';
import { CopyError, describeS3Error, S3Target } from '../backup/s3-target.js';
import type { CopyOptions, EncryptOptions } from '../actions/backup/schema.js';
import type { Config } from '../config/types.js';

export interface ConfiguredCopy {
  readonly task: string;
  readonly copy: CopyOptions;
  readonly encrypt: EncryptOptions | undefined;
  readonly baseDir: string;
}

export function configuredCopies(config: Config | undefined, task?: string): ConfiguredCopy[] {
  if (!config) return [];
  const out: ConfiguredCopy[] = [];
  for (const t of config.tasks) {
    if (t.action !== 'backup' || (task !== undefined && t.id !== task)) continue;
    const o = t.options as { copies?: CopyOptions[]; encrypt?: EncryptOptions };
    for (const c of o.copies ?? [])
      out.push({ task: t.id, copy: c, encrypt: o.encrypt, baseDir: config.dir });
  }
  return out;
}

export function s3Target(c: CopyOptions): S3Target {
  return new S3Target(c, { partSize: c.part_size_mb ? c.part_size_mb * 1024 * 1024 : undefined });
}

/** The identities to read a copy with: --identity, else the task's identity_file / identity_env. */
export function identitiesFor(
  given: string | undefined,
  c: ConfiguredCopy | undefined,
): string[] | undefined {
  if (given !== undefined) return readIdentityFile(resolve(given));
  const e = c?.encrypt;
  if (e?.identity_file) return readIdentityFile(resolve(c!.baseDir, e.identity_file));
  if (e?.identity_env) {
    const v = process.env[e.identity_env];
    if (!v) throw new AgeError(`encrypt.identity_env: environment variable ${e.identity_env} is not set`);
    return parseIdentities(v, `environment variable ${e.identity_env}`);
  }
  return undefined;
}

export interface RemoteListing {
  readonly where: string;
  readonly task: string;
  readonly archives: RemoteArchive[];
  /** Why the copy could not be listed (one line, no secret). */
  readonly error?: string;
}

export async function listCopies(copies: readonly ConfiguredCopy[]): Promise<RemoteListing[]> {
  const out: RemoteListing[] = [];
  for (const c of copies) {
    let t: S3Target | undefined;
    try {
      t = s3Target(c.copy);
      out.push({ where: t.url, task: c.task, archives: await listRemote(t, c.task) });
    } catch (err) {
      out.push({
        where: c.copy.to,
        task: c.task,
        archives: [],
        error: err instanceof CopyError ? err.message : describeS3Error(err),
      });
    } finally {
      t?.close();
    }
  }
  return out;
}

/** A copy URL `s3://bucket/prefix/NAME`: its target (settings from the configured copy when one matches). */
export async function openCopy(
  url: string,
  copies: readonly ConfiguredCopy[],
): Promise<{ target: S3Target; archive: RemoteArchive; configured: ConfiguredCopy | undefined }> {
  let where: { copy: string; name: string };
  try {
    where = splitCopyUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message); // a malformed argument: exit 2
  }
  const { copy, name } = where;
  const configured = copies.find((c) => c.copy.to.replace(/\/+$/, '') === copy);
  const target = configured
    ? s3Target(configured.copy)
    : new S3Target({
        to: copy,
        endpoint: process.env.AWS_ENDPOINT_URL,
        path_style: process.env.AWS_ENDPOINT_URL !== undefined,
      });
  try {
    const archive = (await listRemote(target)).find((a) => a.name === name);
    if (!archive)
      throw new UsageError(
        `no complete archive ${name} in ${target.url} (an archive counts once its manifest is uploaded)`,
      );
    return { target, archive, configured };
  } catch (err) {
    target.close();
    throw err;
  }
}

export function copyFailure(err: unknown, url: string): string | undefined {
  if (err instanceof CopyError || err instanceof AgeError) return err.message;
  const e = err as { $metadata?: unknown; code?: string };
  if (e.$metadata !== undefined || /^E[A-Z]+$/.test(e.code ?? '')) return `${url}: ${describeS3Error(err)}`;
  return undefined;
}
