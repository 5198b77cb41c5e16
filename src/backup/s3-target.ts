/**
 * An S3-compatible bucket as a backup copy: `s3://bucket/prefix`, with an endpoint, a region,
 * path-style addressing and credentials from two environment variables (or the SDK's default
 * chain). Uploads stream through `@aws-sdk/lib-storage` (multipart above one part, memory bounded
 * by part size × queue size). Checksums are sent and checked only when an operation requires
 * them: the SDK's default CRC32 trailers (aws-chunked bodies) are not understood by many
 * S3-compatible servers, and the archive has its own SHA-256 anyway.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parseS3Url } from './s3-url.js';
import { uploadInParts } from './s3-part-upload.js';
import { CopyError, type CopyTarget, type RemoteObject } from './copy-target.js';

// The SDK warns on every CLI run under Node 20 that its releases after January 2027 need Node 22;
// caretaker pins the SDK in its lock file and supports Node 20, so the warning only alarms operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3CopySpec {
  /** `s3://bucket/prefix` */
  readonly to: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly path_style?: boolean;
  readonly access_key_env?: string;
  readonly secret_key_env?: string;
}

export { parseS3Url, type ParsedS3Url } from './s3-url.js';
export { CopyError, type RemoteObject } from './copy-target.js';

/** The S3 error's code and a short reason an operator can act on. */
export function describeS3Error(err: unknown): string {
  const e = err as {
    name?: string;
    Code?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  // A socket error is a plain Error whose errno code says what happened.
  const code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code ?? 'Error';
  switch (code) {
    case 'NoSuchBucket':
      return 'the bucket does not exist (NoSuchBucket)';
    case 'InvalidAccessKeyId':
      return 'the access key is not known to the server (InvalidAccessKeyId)';
    case 'SignatureDoesNotMatch':
      return 'the secret key is wrong (SignatureDoesNotMatch)';
    case 'AccessDenied':
      return 'access denied (AccessDenied)';
    case 'ECONNREFUSED':
      return 'connection refused: is the endpoint right and the server up? (ECONNREFUSED)';
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection was cut (${code})`;
    case 'ENOTFOUND':
      return 'the endpoint host name does not resolve (ENOTFOUND)';
    default: {
      const status = e.$metadata?.httpStatusCode;
      const msg = (e.message ?? '').split('\n')[0]!.slice(0, 200);
      return `${code}${status ? ` (HTTP ${status})` : ''}${msg && msg !== code ? `: ${msg}` : ''}`;
    }
  }
}

export interface S3TargetOptions {
  /** Bytes per multipart part (≥ 5 MiB on real S3). */
  readonly partSize?: number;
  /** Parts uploaded at once (each held in memory). @default 4 */
  readonly queueSize?: number;
  /**
   * Upload through a fixed set of reused part buffers (s3-part-upload.ts) instead of lib-storage:
   * for streams whose size memory must not follow.
   */
  readonly reuseParts?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

export class S3Target implements CopyTarget {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #reuseParts: boolean;

  constructor(spec: S3CopySpec, o: S3TargetOptions = {}) {
    const parsed = parseS3Url(spec.to);
    if (!parsed) throw new CopyError(`${spec.to}: expected s3://bucket/prefix`);
    this.url = spec.to.replace(/\/+$/, '');
    this.bucket = parsed.bucket;
    this.prefix = parsed.prefix;
    this.#partSize = o.partSize ?? DEFAULT_PART_SIZE;
    this.#queueSize = o.queueSize ?? 4;
    this.#reuseParts = o.reuseParts ?? false;
    const env = o.env ?? process.env;
    let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    if (spec.access_key_env !== undefined || spec.secret_key_env !== undefined) {
      const missing = [spec.access_key_env, spec.secret_key_env].filter((n) => !n || !env[n]);
      if (missing.length > 0)
        throw new CopyError(
          `copy ${this.url}: ${missing.map((n) => (n ? `environment variable ${n} is not set` : 'access_key_env and secret_key_env go together')).join('; ')}`,
        );
      credentials = {
        accessKeyId: env[spec.access_key_env!]!,
        secretAccessKey: env[spec.secret_key_env!]!,
      };
    }
    this.#client = new S3Client({
      endpoint: spec.endpoint,
      region: spec.region ?? env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: spec.path_style ?? false,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
    });
  }

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Streams `body` to `name`; multipart when it is larger than one part. */
  async upload(name: string, body: Readable, signal?: AbortSignal): Promise<void> {
    if (this.#reuseParts)
      return uploadInParts(
        {
          client: this.#client,
          bucket: this.bucket,
          key: this.key(name),
          partSize: this.#partSize,
          inFlight: this.#queueSize,
          signal,
        },
        body,
      );
    const up = new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key: this.key(name), Body: body },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    const onAbort = () => void up.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await up.done();
    } catch (err) {
      // On abort lib-storage's done() rejects at once and sends AbortMultipartUpload only later,
      // in the background, once the parts in flight settle — by then the caller has closed the
      // client, so a cancelled run left its parts behind. Abort the upload here; what a crash
      // leaves is for the next run's abortStaleUploads.
      if (signal?.aborted && up.uploadId)
        await this.#client
          .send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: this.key(name),
              UploadId: up.uploadId,
            }),
          )
          .catch(() => undefined);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async put(name: string, body: Buffer | string): Promise<void> {
    await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: body }));
  }

  async get(name: string): Promise<Readable> {
    const r = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
    if (!r.Body) throw new CopyError(`${this.url}/${name}: the server returned no body`);
    return r.Body as Readable;
  }

  async getText(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Objects directly under the prefix (names relative to it). */
  async list(): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    let token: string | undefined;
    do {
      const r = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of r.Contents ?? []) {
        const rel = (o.Key ?? '').slice(this.prefix.length);
        if (rel === '' || rel.includes('/')) continue;
        out.push({ key: rel, size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (let i = 0; i < names.length; i += 1000) {
      const r = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: names.slice(i, i + 1000).map((n) => ({ Key: this.key(n) })), Quiet: true },
        }),
      );
      const failed = r.Errors?.[0];
      if (failed)
        throw new CopyError(`${this.url}: could not delete ${failed.Key}: ${failed.Code ?? 'error'}`);
    }
  }

  /**
   * Aborts the multipart uploads under the prefix whose names start with `namePrefix` and that
   * began before `before` (ms): the parts an interrupted run left. Returns how many, or
   * undefined when the server cannot list multipart uploads (some S3-compatible servers).
   */
  async abortStaleUploads(namePrefix: string, before: number): Promise<number | undefined> {
    let n = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      do {
        const r = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.key(namePrefix),
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        );
        for (const u of r.Uploads ?? []) {
          if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) >= before) continue;
          await this.#client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
          n++;
        }
        keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
        idMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      const code = (err as { name?: string }).name;
      if (code === 'NotImplemented' || code === 'MethodNotAllowed') return undefined;
      throw err;
    }
    return n;
  }

  describeError(err: unknown): string {
    return err instanceof CopyError ? err.message : describeS3Error(err);
  }

  close(): void {
    this.#client.destroy();
  }
}
