/**
 * A backup with copies and no local `dest`: the archive is written straight into the uploads of
 * every copy at once (copy-fanout.ts), age-encrypted on the way when there are recipients, and
 * never lands on this host's disk (database dumps excepted: a tar header needs their size first,
 * so they are staged in a private directory under the state dir, as with a local `dest`).
 *
 * Order on each copy, as for an uploaded local archive (offsite.ts): the archive object, then —
 * only once the producer finished and every byte reached that copy — its manifest and index,
 * the marks that make it count. A producer that fails or is aborted cuts every upload off, so an
 * interrupted archive never lists as good; what it leaves is cleared by the next run. With
 * `verify`, each copy is read back from the remote (streamed, nothing written locally) and its
 * size and SHA-256 compared with what was sent; a copy that does not match is removed again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { archiveName } from './archive-name.js';
import { encryptStream } from './age-stream.js';
import { CopyError, type CopyTarget } from './copy-target.js';
import { FanOut, NoCopyLeftError } from './copy-fanout.js';
import type { ArchiveOutput } from './gzip-blocks.js';
import type { Sidecar } from './manifest.js';
import { archiveObject, archiveObjects, putMarks, readBack } from './offsite.js';
import {
  packArchive,
  packedCounts,
  skipRule,
  stageDatabases,
  walkSources,
  type ArchiveSourceOptions,
  type Packed,
  type WriteArchiveResult,
} from './write-archive.js';

export interface StreamArchiveOptions extends ArchiveSourceOptions {
  /** The copies, opened (and cleared of what interrupted runs left) by the caller. */
  readonly targets: readonly CopyTarget[];
  /** age recipients: every copy receives the same ciphertext. */
  readonly recipients?: readonly string[];
  /** Read every copy back from the remote and compare it with what was sent. */
  readonly verify: boolean;
  /** A private directory for database dumps is made (and removed) under it: the state dir. */
  readonly stagingParent: string;
}

export interface StreamedCopy {
  readonly target: CopyTarget;
  readonly ok: boolean;
  /** Why the copy failed (its target's describeError makes it one line). */
  readonly error?: unknown;
  readonly object: string;
  readonly size: number;
  readonly sha256: string;
  readonly verified: boolean;
}

export interface StreamArchiveResult extends Omit<WriteArchiveResult, 'path' | 'verified'> {
  /** undefined when every copy failed before the archive was complete. */
  readonly sidecar: Sidecar | undefined;
  readonly copies: StreamedCopy[];
}

/** Counts and hashes the clear archive (the sidecar's size and SHA-256) and passes a copy on. */
class ClearOutput implements ArchiveOutput {
  readonly #hash = createHash('sha256');
  bytes = 0;
  constructor(
    private readonly next: (buf: Buffer) => void | Promise<void>,
    /** PlainSink hands the tar writer's block back for reuse: keep a copy. gzip output is fresh. */
    private readonly copy: boolean,
  ) {}
  write(buf: Buffer): void | Promise<void> {
    this.#hash.update(buf);
    this.bytes += buf.length;
    return this.next(this.copy ? Buffer.from(buf) : buf);
  }
  digest(): string {
    return this.#hash.digest('hex');
  }
}

function roomOrGone(s: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** The first name (by sequence number) that no copy has an object of yet. */
async function freeName(
  targets: readonly CopyTarget[],
  o: StreamArchiveOptions,
  failed: Map<number, unknown>,
): Promise<string> {
  const keys: string[] = [];
  await Promise.all(
    targets.map(async (t, i) => {
      try {
        keys.push(...(await t.list()).map((x) => x.key));
      } catch (err) {
        failed.set(i, err);
      }
    }),
  );
  for (let seq = 1; ; seq++) {
    const name = archiveName(o.task, o.time, o.compression !== 'none', seq);
    if (!keys.some((k) => k === name || k.startsWith(`${name}.`))) return name;
  }
}

/** The producer: the archive into `fan`, through age when there are recipients. */
async function produce(
  o: StreamArchiveOptions,
  fan: FanOut,
  pack: (out: ArchiveOutput) => Promise<Packed>,
): Promise<{ packed: Packed; clear: ClearOutput }> {
  if (!o.recipients) {
    const clear = new ClearOutput((buf) => fan.write(buf), o.compression === 'none');
    const packed = await pack(clear);
    fan.end();
    return { packed, clear };
  }
  const plain = new PassThrough({ highWaterMark: 1024 * 1024 });
  plain.on('error', () => undefined); // seen by the encryption reading it
  let pumpFailure: unknown;
  const cipher: Readable = await encryptStream(plain, o.recipients);
  const pump = (async () => {
    try {
      for await (const c of cipher) {
        const u = c as Uint8Array;
        const wait = fan.write(Buffer.from(u.buffer, u.byteOffset, u.byteLength));
        if (wait) await wait;
      }
      fan.end();
    } catch (err) {
      pumpFailure = err;
      plain.destroy();
      throw err;
    }
  })();
  pump.catch(() => undefined); // awaited below
  const clear = new ClearOutput((buf) => {
    if (plain.destroyed) throw pumpFailure ?? new NoCopyLeftError('every copy failed');
    if (!plain.write(buf)) return roomOrGone(plain);
  }, o.compression === 'none');
  let packed: Packed;
  try {
    packed = await pack(clear);
  } catch (err) {
    plain.destroy(err as Error);
    await pump.catch(() => undefined);
    throw pumpFailure instanceof NoCopyLeftError ? pumpFailure : err;
  }
  plain.end();
  await pump;
  return { packed, clear };
}

export async function streamArchive(o: StreamArchiveOptions): Promise<StreamArchiveResult> {
  const failedEarly = new Map<number, unknown>();
  const name = await freeName(o.targets, o, failedEarly);
  const encrypted = o.recipients !== undefined;
  const object = archiveObject(name, encrypted);
  const src = await walkSources(o, skipRule(o.stagingParent, o.protectedDirs, o.sqlite));
  let staging: string | undefined;
  try {
    if (o.sqlite.length + o.postgres.length > 0) {
      mkdirSync(o.stagingParent, { recursive: true, mode: 0o700 });
      staging = mkdtempSync(join(o.stagingParent, `backup-${o.task}-`));
    }
    const staged = staging ? await stageDatabases(o, src, staging) : [];

    const fan = new FanOut(o.targets.length);
    for (const [i, err] of failedEarly) fan.branches[i]!.fail(err);
    const uploads = o.targets.map((t, i) => {
      const b = fan.branches[i]!;
      if (b.failed) return Promise.resolve();
      return t.upload(object, b.body, o.signal).then(
        () => undefined,
        (err: unknown) => b.fail(err),
      );
    });
    let produced: Awaited<ReturnType<typeof produce>> | undefined;
    let producerError: unknown;
    try {
      produced = await produce(o, fan, (out) => packArchive(o, out, src, staged));
    } catch (err) {
      producerError = err;
      fan.destroy(err);
    }
    await Promise.all(uploads);
    // Cancelled: the uploads failed because of it, not each for a reason of its own.
    o.signal.throwIfAborted();
    if (producerError !== undefined && !(producerError instanceof NoCopyLeftError)) throw producerError;

    const failedCopy = (i: number, error: unknown): StreamedCopy => ({
      target: o.targets[i]!,
      ok: false,
      error,
      object,
      size: 0,
      sha256: '',
      verified: false,
    });
    if (!produced) {
      return {
        name,
        ...packedCounts({ entries: [], files: 0, bytes: 0, warnings: [] }, staged),
        bytesOut: 0,
        sha256: '',
        warnings: [],
        sidecar: undefined,
        copies: fan.branches.map((b, i) => failedCopy(i, b.failure)),
      };
    }
    const { packed, clear } = produced;
    const sidecar: Sidecar = {
      ...packed.manifest,
      archive: { name, size: clear.bytes, sha256: clear.digest() },
    };
    const stored = { size: fan.bytes, sha256: fan.digest() };
    const copies = await Promise.all(
      o.targets.map(async (t, i): Promise<StreamedCopy> => {
        const b = fan.branches[i]!;
        if (b.failed) return failedCopy(i, b.failure);
        try {
          if (b.bytes !== stored.size)
            throw new CopyError(`received ${b.bytes} of the archive's ${stored.size} bytes`);
          await putMarks(t, sidecar, o.recipients, stored);
          if (o.verify) {
            const back = await readBack(t, object, o.signal);
            if (back.size !== stored.size || back.sha256 !== stored.sha256) {
              await t.remove(archiveObjects(name, encrypted)).catch(() => undefined);
              throw new CopyError(
                `${object} reads back from the copy as ${back.size} bytes with another SHA-256 than the ${stored.size} bytes sent; removed it`,
              );
            }
          }
          return { target: t, ok: true, object, ...stored, verified: o.verify };
        } catch (err) {
          if (o.signal.aborted) throw err;
          return failedCopy(i, err);
        }
      }),
    );
    return {
      name,
      ...packedCounts(packed.outcome, staged),
      bytesOut: clear.bytes,
      sha256: sidecar.archive.sha256,
      warnings: [...src.walk.skipped.map((s) => `${s.path}: ${s.why}`), ...packed.outcome.warnings],
      sidecar,
      copies,
    };
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}
