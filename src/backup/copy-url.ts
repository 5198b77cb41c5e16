/**
 * A copy's destination URL, checked without loading the S3 SDK or ssh2 (the config loader and
 * the CLI's argument parsing use it).
 */
import { parseS3Url } from './s3-url.js';
import { parseSftpUrl } from './sftp-url.js';

export type CopyScheme = 's3' | 'sftp';

/** The scheme of a valid copy URL, or undefined. */
export function copyScheme(url: string): CopyScheme | undefined {
  if (parseS3Url(url)) return 's3';
  if (parseSftpUrl(url)) return 'sftp';
  return undefined;
}

/** Whether a command-line argument names a copy rather than a local archive. */
export function looksLikeCopyUrl(arg: string): boolean {
  return arg.startsWith('s3://') || arg.startsWith('sftp://');
}

export const COPY_URL_FORMS = 's3://bucket/prefix or sftp://user@host:port/absolute/dir';
