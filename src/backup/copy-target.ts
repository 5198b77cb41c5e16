/**
 * Where a backup copy lives, as the copy code sees it: a flat directory of named objects that
 * can be streamed in and out, listed, and removed. An S3 prefix (s3-target.ts) and a directory
 * on an SFTP server (sftp-target.ts) are both this. What is uploaded in which order, what counts
 * as a complete copy and what retention removes is decided above it, in offsite.ts, the same for
 * every kind of target.
 */
import type { Readable } from 'node:stream';

/** A copy that could not be reached or written; the message names the copy, never a secret. */
export class CopyError extends Error {
  override name = 'CopyError';
}

export interface RemoteObject {
  readonly key: string;
  readonly size: number;
  /** Last written, ms since the epoch (the server's clock). */
  readonly modified: number;
}

export interface CopyTarget {
  /** The copy's URL, without a trailing slash (`s3://bucket/prefix`, `sftp://user@host:port/dir`). */
  readonly url: string;
  /** Streams `body` to `name`; on a target that can, under a temporary name renamed at the end. */
  upload(name: string, body: Readable, signal?: AbortSignal): Promise<void>;
  /** A small object in one piece (a manifest, an index). */
  put(name: string, body: Buffer | string): Promise<void>;
  get(name: string): Promise<Readable>;
  getText(name: string): Promise<Buffer>;
  /** Objects directly in the copy (names relative to it); temporary uploads are not listed. */
  list(): Promise<RemoteObject[]>;
  remove(names: readonly string[]): Promise<void>;
  /**
   * Removes the unfinished uploads whose names start with `namePrefix` begun before `before`
   * (ms): S3 multipart uploads, SFTP temp files. Returns how many, or undefined when the target
   * cannot list them.
   */
  abortStaleUploads(namePrefix: string, before: number): Promise<number | undefined>;
  /** One line for an error of this target (never a secret). */
  describeError(err: unknown): string;
  close(): void;
}
