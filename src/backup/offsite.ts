/**
 * Copies of finished archives on an S3-compatible bucket or an SFTP server: what is uploaded, in which order, how a
 * copy is listed, retained and fetched back.
 *
 * Under the copy's prefix (S3) or in its directory (SFTP) an archive is one to three objects:
 *   plain:     NAME                    the archive, the same bytes as the local one
 *              NAME.manifest.json      its sidecar — uploaded last: the mark of a complete copy
 *   encrypted: NAME.age                the archive, age-encrypted
 *              NAME.manifest.json.age  its sidecar, age-encrypted (file names are secrets too)
 *              NAME.age.index.json     clear: name, time, size and SHA-256 of the ciphertext —
 *                                      uploaded last; lets list and retention work without a key
 * An archive whose mark is missing (an interrupted upload) does not count: `backup list` does not
 * show it, and the next run of the task deletes it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyRetention, type KeepPolicy } from '../core/retention.js';
import { parseArchiveName } from './archive-name.js';
import { decryptBytes, decryptStream, encryptBytes, encryptStream } from './age-stream.js';
import { parseSidecar, serializeManifest, writeSidecar, type Sidecar } from './manifest.js';
import { CopyError, type CopyTarget } from './copy-target.js';
import { z } from 'zod';

export const INDEX_FORMAT = 'caretaker-copy-index/1';
const MANIFEST_SUFFIX = '.manifest.json';
const AGE = '.age';
const INDEX_SUFFIX = '.index.json';

const indexSchema = z.object({
  format: z.literal(INDEX_FORMAT),
  name: z.string(),
  task: z.string(),
  createdAt: z.string(),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type CopyIndex = z.infer<typeof indexSchema>;

export interface RemoteArchive {
  /** The archive's own name (as the local one: `task-20261204T010000Z.tar.gz`). */
  readonly name: string;
  /** The archive object under the prefix (`NAME` or `NAME.age`). */
  readonly object: string;
  readonly url: string;
  readonly task: string;
  readonly time: number;
  readonly seq: number;
  readonly size: number;
  readonly encrypted: boolean;
}

function markOf(name: string, encrypted: boolean): string {
  return encrypted ? `${name}${AGE}${INDEX_SUFFIX}` : `${name}${MANIFEST_SUFFIX}`;
}

function objectsOf(name: string, encrypted: boolean): string[] {
  // The mark first: a half-finished removal never leaves something that looks complete.
  return encrypted
    ? [markOf(name, true), `${name}${MANIFEST_SUFFIX}${AGE}`, `${name}${AGE}`]
    : [markOf(name, false), name];
}

/** Counts bytes and hashes them as they pass. */
class Hasher extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.push(chunk);
    done();
  }
}

export interface ShipOptions {
  readonly archivePath: string;
  readonly sidecar: Sidecar;
  /** age recipients: the copy is encrypted. */
  readonly recipients?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface Shipped {
  readonly object: string;
  readonly size: number;
  readonly sha256: string;
}

/** The object an archive is stored as in a copy: `NAME`, or `NAME.age` when encrypted. */
export function archiveObject(name: string, encrypted: boolean): string {
  return encrypted ? `${name}${AGE}` : name;
}

/** Every object of one archive in a copy, its mark first (the order removal goes in). */
export function archiveObjects(name: string, encrypted: boolean): string[] {
  return objectsOf(name, encrypted);
}

/**
 * What makes an uploaded archive count, uploaded after it: the sidecar (plain), or the encrypted
 * sidecar and then the clear index with the ciphertext's size and SHA-256.
 */
export async function putMarks(
  t: CopyTarget,
  sidecar: Sidecar,
  recipients: readonly string[] | undefined,
  stored: { readonly size: number; readonly sha256: string },
): Promise<void> {
  const name = sidecar.archive.name;
  const manifest = serializeManifest(sidecar);
  if (!recipients) {
    await t.put(markOf(name, false), manifest);
    return;
  }
  await t.put(`${name}${MANIFEST_SUFFIX}${AGE}`, await encryptBytes(Buffer.from(manifest), recipients));
  const index: CopyIndex = {
    format: INDEX_FORMAT,
    name,
    task: sidecar.task,
    createdAt: sidecar.createdAt,
    size: stored.size,
    sha256: stored.sha256,
  };
  await t.put(markOf(name, true), `${JSON.stringify(index, null, 2)}\n`);
}

/** Streams a stored object back and returns its size and SHA-256 (nothing is written locally). */
export async function readBack(
  t: CopyTarget,
  object: string,
  signal?: AbortSignal,
): Promise<{ size: number; sha256: string }> {
  const hasher = new Hasher();
  await pipeline(await t.get(object), hasher, new PassThrough().resume(), { signal });
  return { size: hasher.bytes, sha256: hasher.hash.digest('hex') };
}

/** Uploads one finished archive: the archive streamed from disk, then its manifest, then the mark. */
export async function shipArchive(t: CopyTarget, o: ShipOptions): Promise<Shipped> {
  const name = o.sidecar.archive.name;
  const encrypted = o.recipients !== undefined;
  const hasher = new Hasher();
  const file = createReadStream(o.archivePath, { highWaterMark: 1024 * 1024 });
  const plain: Readable = encrypted ? await encryptStream(file, o.recipients!) : file;
  const body = plain.pipe(hasher);
  plain.on('error', (err) => hasher.destroy(err));
  const object = archiveObject(name, encrypted);
  await t.upload(object, body, o.signal);
  const sha256 = hasher.hash.digest('hex');
  if (!encrypted && (sha256 !== o.sidecar.archive.sha256 || hasher.bytes !== o.sidecar.archive.size))
    throw new CopyError(`${o.archivePath} changed while it was uploaded`);
  await putMarks(t, o.sidecar, o.recipients, { size: hasher.bytes, sha256 });
  return { object, size: hasher.bytes, sha256 };
}

/** The complete archives of the copy (of one task when given), newest first. */
export async function listRemote(t: CopyTarget, task?: string): Promise<RemoteArchive[]> {
  const objects = await t.list();
  const keys = new Set(objects.map((o) => o.key));
  const out: RemoteArchive[] = [];
  for (const o of objects) {
    const encrypted = o.key.endsWith(AGE) && !o.key.endsWith(`${MANIFEST_SUFFIX}${AGE}`);
    const name = encrypted ? o.key.slice(0, -AGE.length) : o.key;
    const parsed = parseArchiveName(name);
    if (!parsed || (task !== undefined && parsed.task !== task)) continue;
    if (!keys.has(markOf(name, encrypted))) continue;
    out.push({
      name,
      object: o.key,
      url: `${t.url}/${o.key}`,
      task: parsed.task,
      time: parsed.time,
      seq: parsed.seq,
      size: o.size,
      encrypted,
    });
  }
  return out.sort((a, b) => b.time - a.time || b.seq - a.seq);
}

/**
 * What interrupted runs of this task left: archive objects without their mark, and marks or
 * manifests without their archive, last written before `before` (ms). Multipart uploads are
 * and SFTP temp files are handled by CopyTarget.abortStaleUploads.
 */
export async function findRemoteLeftovers(t: CopyTarget, task: string, before: number): Promise<string[]> {
  const objects = await t.list();
  const complete = new Set((await listRemote(t, task)).flatMap((a) => objectsOf(a.name, a.encrypted)));
  return objects
    .filter((o) => {
      if (complete.has(o.key) || o.modified >= before) return false;
      const base = o.key.replace(/(\.manifest\.json)?(\.age)?(\.index\.json)?$/, '');
      return parseArchiveName(base)?.task === task;
    })
    .map((o) => o.key)
    .sort();
}

export interface RemotePrune {
  readonly removed: RemoteArchive[];
  readonly bytesFreed: number;
}

/** Applies the keep rules to the copy; never removes `keepName` (the archive just shipped). */
export async function pruneRemote(
  t: CopyTarget,
  task: string,
  policy: KeepPolicy,
  keepName?: string,
): Promise<RemotePrune> {
  const archives = await listRemote(t, task);
  const byName = new Map(archives.map((a) => [a.name, a]));
  const decision = applyRetention(
    archives.map((a) => ({ id: a.name, time: a.time + a.seq })),
    policy,
  );
  const removed: RemoteArchive[] = [];
  let bytesFreed = 0;
  for (const id of decision.remove) {
    if (id === keepName) continue;
    const a = byName.get(id)!;
    await t.remove(objectsOf(a.name, a.encrypted));
    removed.push(a);
    bytesFreed += a.size;
  }
  return { removed, bytesFreed };
}

export interface Fetched {
  /** The (decrypted) archive, with its sidecar beside it; undefined when it could not be decrypted. */
  readonly path: string | undefined;
  readonly sidecar: Sidecar | undefined;
  /** SHA-256 of the stored object (the ciphertext when encrypted). */
  readonly sha256: string;
  readonly size: number;
  /** What the index or sidecar says the stored object should be. */
  readonly expected: { readonly size: number; readonly sha256: string };
}

async function readIndex(t: CopyTarget, a: RemoteArchive): Promise<CopyIndex> {
  const text = (await t.getText(markOf(a.name, true))).toString('utf8');
  const parsed = indexSchema.safeParse(
    (() => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    })(),
  );
  if (!parsed.success) throw new CopyError(`${a.url}${INDEX_SUFFIX} is not a caretaker copy index`);
  return parsed.data;
}

/** What a copy's small objects say of it: the sidecar (when it can be read) and the stored object's size and SHA-256. */
export interface RemoteMeta {
  readonly sidecar: Sidecar | undefined;
  /** The sidecar as text (entries compared without parsing a second copy). */
  readonly sidecarText: string | undefined;
  readonly expected: { readonly size: number; readonly sha256: string };
}

/** Reads a copy's sidecar (decrypted with `identities`) or, encrypted without them, its clear index. */
export async function remoteMeta(
  t: CopyTarget,
  a: RemoteArchive,
  identities: readonly string[] | undefined,
): Promise<RemoteMeta> {
  const what = `${t.url}/${a.name}${MANIFEST_SUFFIX}`;
  if (a.encrypted) {
    const index = await readIndex(t, a);
    const expected = { size: index.size, sha256: index.sha256 };
    if (!identities) return { sidecar: undefined, sidecarText: undefined, expected };
    const text = (
      await decryptBytes(await t.getText(`${a.name}${MANIFEST_SUFFIX}${AGE}`), identities, what)
    ).toString('utf8');
    return { sidecar: parseSidecarText(text, what), sidecarText: text, expected };
  }
  const text = (await t.getText(markOf(a.name, false))).toString('utf8');
  const sidecar = parseSidecarText(text, what);
  return {
    sidecar,
    sidecarText: text,
    expected: { size: sidecar.archive.size, sha256: sidecar.archive.sha256 },
  };
}

/**
 * A copy's stored object as a stream, counted and hashed as it arrives (`stored()` once it has
 * ended), and its archive: the same bytes, or decrypted when the copy is encrypted and
 * `identities` are given (undefined when encrypted without them).
 */
export async function openRemote(
  t: CopyTarget,
  a: RemoteArchive,
  identities: readonly string[] | undefined,
): Promise<{
  archive: Readable | undefined;
  counted: Readable;
  /** The stored object's SHA-256 and size once it was read to its end; undefined before. */
  stored: () => { sha256: string; size: number } | undefined;
  destroy: () => void;
}> {
  const hasher = new Hasher();
  const body = await t.get(a.object);
  const counted = body.pipe(hasher);
  body.on('error', (err) => hasher.destroy(err));
  const archive = !a.encrypted
    ? counted
    : identities
      ? await decryptStream(counted, identities, a.url)
      : undefined;
  return {
    archive,
    counted,
    stored: () =>
      hasher.readableEnded ? { sha256: hasher.hash.digest('hex'), size: hasher.bytes } : undefined,
    destroy: () => {
      body.destroy();
      hasher.destroy();
      archive?.destroy();
    },
  };
}

/**
 * Streams a copy into `dir` (a private temp dir of the caller), checking the stored object's
 * SHA-256 as it arrives and decrypting it when it is encrypted. Without identities an encrypted
 * copy is only hashed: `path` and `sidecar` are undefined.
 */
export async function fetchRemote(
  t: CopyTarget,
  a: RemoteArchive,
  dir: string,
  identities: readonly string[] | undefined,
  signal?: AbortSignal,
): Promise<Fetched> {
  const { sidecar, expected } = await remoteMeta(t, a, identities);
  const hasher = new Hasher();
  const body = await t.get(a.object);
  const path = sidecar ? join(dir, a.name) : undefined;
  if (!path) await pipeline(body, hasher, new PassThrough().resume(), { signal });
  else if (!a.encrypted) await pipeline(body, hasher, createWriteStream(path, { mode: 0o600 }), { signal });
  else {
    const counted = body.pipe(hasher);
    body.on('error', (err) => hasher.destroy(err));
    const clear = await decryptStream(counted, identities!, a.url);
    await pipeline(clear, createWriteStream(path, { mode: 0o600 }), { signal });
  }
  if (path && sidecar) writeSidecar(path, sidecar);
  return { path, sidecar, sha256: hasher.hash.digest('hex'), size: hasher.bytes, expected };
}

function parseSidecarText(text: string, what: string): Sidecar {
  return parseSidecar(text, what);
}
