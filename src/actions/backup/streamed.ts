/**
 * A backup with copies and no local `dest`: every copy is opened and cleared of what interrupted
 * runs left, then the archive streams to all of them at once (backup/stream-archive.ts), then
 * each copy that got it whole applies its keep rules. A copy that fails is one line naming it;
 * the others go on; the run fails if any copy failed.
 */
import { plural } from '../../core/plural.js';
import { formatDuration } from '../../core/duration.js';
import { formatSize } from '../../core/size.js';
import type { CopyTarget } from '../../backup/copy-target.js';
import { streamArchive, type StreamArchiveOptions } from '../../backup/stream-archive.js';
import type { ActionContext, ActionResult } from '../types.js';
import {
  afterUpload,
  clearLeftovers,
  failedCopy,
  recipientsOf,
  targetOf,
  type CopyOutcome,
} from './copies.js';
import type { BackupOptions } from './schema.js';

/**
 * S3 parts in flight per copy when streaming: every part is a buffer of part_size_mb held until
 * it is uploaded (lib-storage), and the producer is paced by the slowest copy anyway.
 */
const STREAM_PARTS_IN_FLIGHT = 2;

export type StreamSource = Omit<StreamArchiveOptions, 'targets' | 'recipients' | 'verify'>;

/** "12 files", "12 files and 2 databases", "1 database". */
export function whatWasBackedUp(files: number, databases: number): string {
  const parts = files > 0 || databases === 0 ? [plural(files, 'file')] : [];
  if (databases > 0) parts.push(plural(databases, 'database'));
  return parts.join(' and ');
}

export async function backupToCopies(
  ctx: ActionContext,
  o: BackupOptions,
  source: StreamSource,
  runStart: number,
): Promise<ActionResult & { archiveName?: string }> {
  const started = performance.now();
  const copies = o.copies ?? [];
  let recipients: string[] | undefined;
  try {
    recipients = recipientsOf(o.encrypt, ctx);
  } catch (err) {
    // Without its key nothing may leave the host in clear: no archive is made.
    const lines = copies.map((c) => failedCopy(c, undefined, err).line);
    return { ok: false, summary: `${lines.join('; ')}; no backup was made`, changed: false };
  }
  const outcomes = new Map<number, CopyOutcome>();
  const opened: { i: number; target: CopyTarget; leftovers: number }[] = [];
  try {
    await Promise.all(
      copies.map(async (c, i) => {
        let target: CopyTarget | undefined;
        try {
          target = targetOf(c, ctx, process.env, STREAM_PARTS_IN_FLIGHT);
          const leftovers = await clearLeftovers(ctx, target, runStart);
          opened.push({ i, target, leftovers });
        } catch (err) {
          target?.close();
          if (!ctx.signal.aborted) outcomes.set(i, failedCopy(c, target, err));
        }
      }),
    );
    ctx.signal.throwIfAborted();
    opened.sort((a, b) => a.i - b.i);
    const result =
      opened.length > 0
        ? await streamArchive({
            ...source,
            targets: opened.map((x) => x.target),
            recipients,
            verify: o.verify ?? true,
          })
        : undefined;
    for (const [k, s] of (result?.copies ?? []).entries()) {
      const { i, target, leftovers } = opened[k]!;
      const c = copies[i]!;
      if (!s.ok) {
        outcomes.set(i, failedCopy(c, target, s.error));
        continue;
      }
      try {
        outcomes.set(
          i,
          await afterUpload(ctx, c, target, s, result!.name, leftovers, recipients, s.verified),
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        outcomes.set(i, failedCopy(c, target, err));
      }
    }
    const all = copies.map((_, i) => outcomes.get(i)!);
    const failed = all.filter((c) => !c.ok);
    const good = all.filter((c) => c.ok);
    const durationMs = performance.now() - started;
    if (!result?.sidecar || good.length === 0)
      return {
        ok: false,
        summary: `${failed.map((c) => c.line).join('; ')} — every copy failed; no backup was made`,
        changed: false,
        details: { copies: all },
      };
    const ratio = result.bytesIn > 0 ? result.bytesOut / result.bytesIn : 1;
    return {
      ok: failed.length === 0,
      archiveName: result.name,
      summary:
        (failed.length
          ? `${failed.map((c) => c.line).join('; ')} — ${plural(failed.length, 'copy', 'copies')} of ${all.length} failed. `
          : '') +
        `backed up ${whatWasBackedUp(result.files, result.databases)}` +
        ` (${formatSize(result.bytesIn)} → ${formatSize(result.bytesOut)}, ${(ratio * 100).toFixed(0)}%)` +
        ` straight to ${plural(good.length, 'copy', 'copies')} in ${formatDuration(durationMs)}: ` +
        good.map((c) => c.line).join('; '),
      changed: true,
      warnings: result.warnings.length ? result.warnings : undefined,
      details: {
        archive: result.name,
        files: result.files,
        dirs: result.dirs,
        symlinks: result.symlinks,
        databases: result.databases,
        bytesIn: result.bytesIn,
        bytesOut: result.bytesOut,
        ratio: Number(ratio.toFixed(4)),
        durationMs: Math.round(durationMs),
        sha256: result.sha256,
        verified: good.every((c) => c.line.includes('read back')),
        pruned: [],
        copies: all,
      },
    };
  } finally {
    for (const x of opened) x.target.close();
  }
}
