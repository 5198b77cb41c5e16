/**
 * A multipart upload from a stream into a fixed set of part buffers, reused: for a backup that
 * streams to its copies (no local `dest`), where memory must not depend on the archive's size.
 * lib-storage's Upload concatenates the stream's chunks into a new buffer per part (and keeps the
 * rest of it alive through a subarray), so a 16 MiB part cost two to three times that in live and
 * not-yet-collected buffers; here `inFlight + 1` buffers of `partSize` are allocated once, the
 * stream is copied into them, and a buffer is filled again once its part is uploaded.
 * An archive smaller than one part is one PutObject. A failure or an abort aborts the upload.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface PartUpload {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly partSize: number;
  readonly inFlight: number;
  readonly signal?: AbortSignal;
}

export async function uploadInParts(o: PartUpload, body: Readable): Promise<void> {
  const free: Buffer[] = Array.from({ length: o.inFlight + 1 }, () => Buffer.allocUnsafe(o.partSize));
  let current = free.pop()!;
  let filled = 0;
  let uploadId: string | undefined;
  let nextPart = 1;
  const parts: { ETag: string | undefined; PartNumber: number }[] = [];
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const opts = { abortSignal: o.signal };

  const send = async (buf: Buffer, n: number, partNumber: number) => {
    uploadId ??= (
      await o.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key }), opts)
    ).UploadId;
    const r = await o.client.send(
      new UploadPartCommand({
        Bucket: o.bucket,
        Key: o.key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: buf.subarray(0, n),
        ContentLength: n,
      }),
      opts,
    );
    parts.push({ ETag: r.ETag, PartNumber: partNumber });
  };
  const flush = async () => {
    // The first part creates the upload: wait for it, so later parts do not create their own.
    while (pending.size >= o.inFlight || (uploadId === undefined && pending.size > 0))
      await Promise.race(pending);
    if (failure !== undefined) throw failure;
    const buf = current;
    const p = send(buf, filled, nextPart++).then(
      () => {
        pending.delete(p);
        free.push(buf);
      },
      (err: unknown) => {
        pending.delete(p);
        failure ??= err;
      },
    );
    pending.add(p);
    current = free.pop() ?? Buffer.allocUnsafe(o.partSize);
    filled = 0;
  };

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = chunk.copy(current, filled, off);
        filled += n;
        off += n;
        if (filled === o.partSize) await flush();
      }
    }
    if (nextPart === 1) {
      // Smaller than one part: one plain PUT.
      await o.client.send(
        new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: current.subarray(0, filled) }),
        opts,
      );
      return;
    }
    if (filled > 0) await flush();
    while (pending.size > 0) await Promise.race(pending);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await o.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: o.bucket,
        Key: o.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      opts,
    );
  } catch (err) {
    await Promise.allSettled(pending);
    if (uploadId !== undefined)
      await o.client
        .send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId }))
        .catch(() => undefined); // what is left is for the next run's abortStaleUploads
    throw err;
  }
}
