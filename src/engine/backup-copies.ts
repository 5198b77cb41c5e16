/**
 * The off-host copies of a configuration's backups, for `backup list | verify | restore`: which
 * copies the backup tasks configure, the archives in them, and the key to read encrypted ones.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgeError, parseIdentities, readIdentityFile } from '../backup/age-stream.js';
import { listRemote, type RemoteArchive } from '../backup/offsite.js';
import { splitCopyUrl } from '../backup/offsite-verify.js';
import { UsageError } from '../errors/usage-error.js';
import { didYouMean } from '../core/did-you-mean.js';
import { CopyError, type CopyTarget } from '../backup/copy-target.js';
import { openTarget } from '../backup/copy-targets.js';
import { copyScheme } from '../backup/copy-url.js';
import { describeS3Error } from '../backup/s3-target.js';
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

export function copyTarget(c: ConfiguredCopy): CopyTarget {
  return openTarget(c.copy, { baseDir: c.baseDir });
}

/**
 * A copy given on the command line that no backup task configures: S3 through the SDK's default
 * chain (AWS_ENDPOINT_URL etc.), SFTP with ssh's own defaults (~/.ssh/known_hosts, the first of
 * ~/.ssh/id_ed25519, id_ecdsa, id_rsa, or CARETAKER_SFTP_KEY_FILE).
 */
function adHocTarget(copy: string): CopyTarget {
  if (copyScheme(copy) === 'sftp') {
    const ssh = join(homedir(), '.ssh');
    const key =
      process.env.CARETAKER_SFTP_KEY_FILE ??
      ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(ssh, k)).find((p) => existsSync(p)) ??
      join(ssh, 'id_ed25519');
    return openTarget({
      to: copy,
      key_file: key,
      known_hosts: process.env.CARETAKER_SFTP_KNOWN_HOSTS ?? join(ssh, 'known_hosts'),
    });
  }
  return openTarget({
    to: copy,
    endpoint: process.env.AWS_ENDPOINT_URL,
    path_style: process.env.AWS_ENDPOINT_URL !== undefined,
  });
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
    let t: CopyTarget | undefined;
    try {
      t = copyTarget(c);
      out.push({ where: t.url, task: c.task, archives: await listRemote(t, c.task) });
    } catch (err) {
      out.push({
        where: c.copy.to,
        task: c.task,
        archives: [],
        error: t ? t.describeError(err) : err instanceof CopyError ? err.message : describeS3Error(err),
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
): Promise<{ target: CopyTarget; archive: RemoteArchive; configured: ConfiguredCopy | undefined }> {
  let where: { copy: string; name: string };
  try {
    where = splitCopyUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message); // a malformed argument: exit 2
  }
  const { copy, name } = where;
  const configured = copies.find((c) => c.copy.to.replace(/\/+$/, '') === copy);
  const target = configured ? copyTarget(configured) : adHocTarget(copy);
  try {
    const archive = (await listRemote(target)).find((a) => a.name === name);
    if (!archive)
      throw new UsageError(
        `no complete archive ${name} in ${target.url} (an archive counts once its manifest is uploaded)`,
      );
    return { target, archive, configured };
  } catch (err) {
    target.close();
    // A URL no copy of the configuration has falls back to the SDK's own credentials: without
    // them, a mistyped prefix was "internal error: Could not load credentials from any providers".
    if (!configured && (err as Error).name === 'CredentialsProviderError') {
      const known = copies.map((c) => c.copy.to.replace(/\/+$/, ''));
      throw new UsageError(
        `${copy}: not a copy in the configuration${didYouMean(copy, known) || (known.length ? ` (copies: ${known.join(', ')})` : '')}, and no S3 credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`,
      );
    }
    throw err;
  }
}

export function copyFailure(err: unknown, url: string): string | undefined {
  if (err instanceof AgeError) return err.message;
  if (err instanceof CopyError)
    return /^(copy |s3:\/\/|sftp:\/\/)/.test(err.message) ? err.message : `${url}: ${err.message}`;
  const e = err as { $metadata?: unknown; code?: string };
  if (e.$metadata !== undefined || /^E[A-Z]+$/.test(e.code ?? '')) return `${url}: ${describeS3Error(err)}`;
  return undefined;
}
