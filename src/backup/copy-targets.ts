/** The target of a copy, by its URL's scheme: an S3 prefix or a directory on an SFTP server. */
import type { CopyTarget } from './copy-target.js';
import { CopyError } from './copy-target.js';
import { copyScheme, COPY_URL_FORMS } from './copy-url.js';
import { S3Target, type S3CopySpec } from './s3-target.js';
import { SftpTarget, type SftpCopySpec } from './sftp-target.js';

export type CopySpec = S3CopySpec & SftpCopySpec & { readonly part_size_mb?: number };

export interface OpenTargetOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Relative key_file / known_hosts resolve against it (the config file's directory). */
  readonly baseDir?: string;
  /**
   * S3: parts uploaded at once, from part buffers reused for the whole upload (a stream whose
   * size memory must not follow). @default 4 parts in flight, through lib-storage
   */
  readonly partsInFlight?: number;
}

export function openTarget(spec: CopySpec, o: OpenTargetOptions = {}): CopyTarget {
  switch (copyScheme(spec.to)) {
    case 's3':
      return new S3Target(spec, {
        partSize: spec.part_size_mb ? spec.part_size_mb * 1024 * 1024 : undefined,
        queueSize: o.partsInFlight,
        reuseParts: o.partsInFlight !== undefined,
        env: o.env,
      });
    case 'sftp':
      return new SftpTarget(spec, { env: o.env, baseDir: o.baseDir });
    default:
      throw new CopyError(`${spec.to}: expected ${COPY_URL_FORMS}`);
  }
}
