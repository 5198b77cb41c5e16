/**
 * The copies of a finished archive: for each copy in turn, clear what interrupted runs left,
 * upload (encrypted when `encrypt:` is set), and apply the copy's keep rules. A copy that fails
 * is one line naming it; the other copies still go, and the local archive is kept.
 */
import { AgeError, parseRecipients, readRecipientsFile } from '../../backup/age-stream.js';
import { findRemoteLeftovers, pruneRemote, shipArchive } from '../../backup/offsite.js';
import type { CopyTarget } from '../../backup/copy-target.js';
import { openTarget } from '../../backup/copy-targets.js';
import type { Sidecar } from '../../backup/manifest.js';
import type { ActionContext } from '../types.js';
import type { BackupOptions, CopyOptions, EncryptOptions } from './schema.js';

export interface CopyOutcome {
  readonly to: string;
  readonly ok: boolean;
  /** The failure, one line; or what was done. */
  readonly line: string;
  readonly object?: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly pruned?: string[];
  readonly leftovers?: number;
}

export function recipientsOf(
  e: EncryptOptions | undefined,
  ctx: Pick<ActionContext, 'resolvePath'>,
): string[] | undefined {
  if (!e) return undefined;
  if (e.recipients) return parseRecipients(e.recipients, 'encrypt.recipients');
  return readRecipientsFile(ctx.resolvePath(e.recipients_file!));
}

export function targetOf(
  c: CopyOptions,
  ctx: Pick<ActionContext, 'baseDir'>,
  env: NodeJS.ProcessEnv = process.env,
  partsInFlight?: number,
): CopyTarget {
  return openTarget(c, { env, baseDir: ctx.baseDir, partsInFlight });
}

function failure(err: unknown, target: CopyTarget | undefined): string {
  if (err instanceof AgeError) return err.message;
  return target ? target.describeError(err) : (err as Error).message;
}

export function failedCopy(c: CopyOptions, target: CopyTarget | undefined, err: unknown): CopyOutcome {
  return { to: c.to, ok: false, line: `copy ${target?.url ?? c.to}: ${failure(err, target)}` };
}

/** Removes what interrupted runs of the task left in the copy; returns how many. */
export async function clearLeftovers(
  ctx: ActionContext,
  target: CopyTarget,
  runStart: number,
): Promise<number> {
  const aborted = await target.abortStaleUploads(`${ctx.taskId}-`, runStart);
  const leftovers = await findRemoteLeftovers(target, ctx.taskId, runStart);
  if (leftovers.length > 0) {
    ctx.logger.warn({ copy: target.url, objects: leftovers }, 'removing what an interrupted upload left');
    await target.remove(leftovers);
  }
  return leftovers.length + (aborted ?? 0);
}

/** The copy's keep rules once its new archive is complete, and the line that reports it. */
export async function afterUpload(
  ctx: ActionContext,
  c: CopyOptions,
  target: CopyTarget,
  shipped: { readonly object: string; readonly size: number; readonly sha256: string },
  name: string,
  leftovers: number,
  recipients: readonly string[] | undefined,
  verified = false,
): Promise<CopyOutcome> {
  const pruned = c.keep ? await pruneRemote(target, ctx.taskId, c.keep, name) : undefined;
  return {
    to: target.url,
    ok: true,
    line: `copied to ${target.url}/${shipped.object}${recipients ? ' (age-encrypted)' : ''}${verified ? ', read back and checked' : ''}${pruned?.removed.length ? `, pruned ${pruned.removed.length} there` : ''}`,
    object: shipped.object,
    size: shipped.size,
    sha256: shipped.sha256,
    pruned: pruned?.removed.map((a) => a.name) ?? [],
    leftovers,
  };
}

export async function shipCopies(
  ctx: ActionContext,
  o: BackupOptions,
  archive: { readonly path: string; readonly sidecar: Sidecar },
  runStart: number,
): Promise<CopyOutcome[]> {
  const out: CopyOutcome[] = [];
  let recipients: string[] | undefined;
  try {
    recipients = recipientsOf(o.encrypt, ctx);
  } catch (err) {
    // Without its key nothing may leave the host in clear: every copy fails.
    return (o.copies ?? []).map((c) => ({
      to: c.to,
      ok: false,
      line: `copy ${c.to}: ${failure(err, undefined)}`,
    }));
  }
  for (const c of o.copies ?? []) {
    ctx.signal.throwIfAborted();
    let target: CopyTarget | undefined;
    try {
      target = targetOf(c, ctx);
      const cleared = await clearLeftovers(ctx, target, runStart);
      const shipped = await shipArchive(target, {
        archivePath: archive.path,
        sidecar: archive.sidecar,
        recipients,
        signal: ctx.signal,
      });
      out.push(await afterUpload(ctx, c, target, shipped, archive.sidecar.archive.name, cleared, recipients));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      out.push(failedCopy(c, target, err));
    } finally {
      target?.close();
    }
  }
  return out;
}
