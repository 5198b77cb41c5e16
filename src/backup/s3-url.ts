/**
 * `s3://bucket/prefix` as a copy's destination, parsed without loading the S3 client: the config
 * loader checks it for every backup task, and `caretaker validate` should not pay for the SDK.
 */
export interface ParsedS3Url {
  readonly bucket: string;
  /** '' or ending with '/'. */
  readonly prefix: string;
}

export function parseS3Url(url: string): ParsedS3Url | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  const rest = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1]!, prefix: rest ? `${rest}/` : '' };
}
