/** The `with:` options of `backup`. */
import { z } from 'zod';
import { stringList } from '../../schema/values.js';
import { hasKeepRule } from '../../core/retention.js';
import { pgSource } from '../../backup/postgres.js';
import { looksLikeAgeRecipient } from '../../backup/age-recipient.js';
import { copyScheme, COPY_URL_FORMS } from '../../backup/copy-url.js';

const count = z.number({ error: 'expected a whole number ≥ 1' }).int().min(1);

const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
});

// The messages never echo the value: a URL may carry a password.
const pgUrl = z.string().refine(
  (s) => {
    try {
      pgSource(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected a postgres:// or postgresql:// URL' },
);
const pgEntry = z.union([pgUrl, z.strictObject({ url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) })], {
  error: 'expected a postgres:// URL or { url_env: VARIABLE } (the URL in an environment variable)',
});

const keepSchema = z
  .strictObject({
    last: count.optional(),
    daily: count.optional(),
    weekly: count.optional(),
    monthly: count.optional(),
    yearly: count.optional(),
  })
  .refine(hasKeepRule, { error: 'needs at least one of last, daily, weekly, monthly, yearly' });

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' });

/** Where a copy is and how to reach it (shared with verify-backups' `copy:`). */
export const copyPlace = {
  to: z
    .string()
    .refine((s) => copyScheme(s) !== undefined, { error: `expected ${COPY_URL_FORMS}` })
    .describe('Where the copies go: s3://bucket/prefix or sftp://user@host:port/absolute/dir.'),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .optional()
    .describe('The S3 endpoint. @default AWS for the region'),
  region: z.string().min(1).optional().describe('@default AWS_REGION, else us-east-1'),
  path_style: z
    .boolean()
    .optional()
    .describe('Path-style addressing (most S3-compatible servers). @default false'),
  access_key_env: envName.optional().describe('Environment variable holding the access key id.'),
  secret_key_env: envName.optional().describe('Environment variable holding the secret key.'),
  part_size_mb: z
    .number()
    .int()
    .min(5)
    .max(5120)
    .optional()
    .describe('Multipart upload part size in MiB. @default 16'),
  key_file: z.string().min(1).optional().describe('SFTP: the private key file (OpenSSH format).'),
  key_env: envName.optional().describe('SFTP: environment variable holding the private key itself.'),
  passphrase_env: envName.optional().describe("SFTP: environment variable holding the key's passphrase."),
  known_hosts: z
    .string()
    .min(1)
    .optional()
    .describe(
      "SFTP: OpenSSH known_hosts file holding the server's host key (required: no trust on first use).",
    ),
};

const S3_ONLY = [
  'endpoint',
  'region',
  'path_style',
  'access_key_env',
  'secret_key_env',
  'part_size_mb',
] as const;
const SFTP_ONLY = ['key_file', 'key_env', 'passphrase_env', 'known_hosts'] as const;

type CopyPlace = { to: string } & Partial<
  Record<(typeof S3_ONLY)[number] | (typeof SFTP_ONLY)[number], unknown>
>;

/** For superRefine: the keys that belong to the copy's kind, and what an SFTP copy needs. */
export function checkCopyPlace(c: CopyPlace, ctx: z.RefinementCtx): void {
  const scheme = copyScheme(typeof c.to === 'string' ? c.to : '');
  if (scheme === undefined) return; // reported on `to`
  const foreign = scheme === 's3' ? SFTP_ONLY : S3_ONLY;
  for (const k of foreign)
    if (c[k] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `${k} is for ${scheme === 's3' ? 'sftp://' : 's3://'} copies, not ${scheme}://`,
      });
  if (scheme !== 'sftp') return;
  if (c.known_hosts === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['known_hosts'],
      message:
        "an sftp:// copy needs known_hosts: the file with the server's host key (caretaker never trusts a host key on first use)",
    });
  if ((c.key_file === undefined) === (c.key_env === undefined))
    ctx.addIssue({
      code: 'custom',
      path: ['key_file'],
      message:
        'an sftp:// copy needs exactly one of key_file (a private key file) or key_env (the key in an environment variable)',
    });
}

export function copyCredentialsPaired(c: { access_key_env?: string; secret_key_env?: string }): boolean {
  return (c.access_key_env === undefined) === (c.secret_key_env === undefined);
}

export const copySchema = z
  .strictObject({
    ...copyPlace,
    keep: keepSchema.optional().describe('Retention of this copy. @default keep every archive'),
  })
  .refine(copyCredentialsPaired, {
    error:
      'access_key_env and secret_key_env go together (or leave both out for the default credential chain)',
  })
  .superRefine(checkCopyPlace);

const encryptSchema = z
  .strictObject({
    recipients: z
      .array(
        z.string().refine(looksLikeAgeRecipient, {
          error: 'expected an age recipient (age1…, as age-keygen -y prints)',
        }),
      )
      .min(1)
      .optional(),
    recipients_file: z.string().min(1).optional(),
    identity_file: z
      .string()
      .min(1)
      .optional()
      .describe('Key for verify and restore (not needed to back up).'),
    identity_env: envName.optional().describe('Environment variable holding the key for verify and restore.'),
  })
  .refine((e) => (e.recipients === undefined) !== (e.recipients_file === undefined), {
    error: 'set one of recipients or recipients_file',
  });

export const backupSchema = z
  .strictObject({
    paths: stringList('a path or glob').optional().describe('Files, directories and globs to archive.'),
    exclude: stringList('a glob')
      .optional()
      .describe(
        'Globs to leave out; without a `/` they match a name at any depth (`*.tmp`, `node_modules`).',
      ),
    dest: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory the archives go to (created when missing). Optional with copies: without it the archive streams to every copy and no local copy is kept.',
      ),
    compression: z
      .union([z.number().int().min(0).max(9), z.literal('none')], {
        error: 'expected a gzip level 0-9, or none for a plain .tar',
      })
      .optional()
      .describe('gzip level, or none. @default 6'),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Blocks compressed in parallel. @default the number of cores, at most 4'),
    sqlite: stringList('a database file')
      .optional()
      .describe('SQLite databases, copied with the online backup API.'),
    postgres: z
      .union([pgEntry, z.array(pgEntry).min(1)], {
        error: 'expected a postgres:// URL, { url_env: VARIABLE }, or a list of them',
      })
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional()
      .describe('PostgreSQL databases, dumped with pg_dump --format=custom.'),
    keep: keepSchema
      .optional()
      .describe('Retention, restic forget --keep-* style. @default keep every archive'),
    copies: z
      .array(copySchema)
      .min(1)
      .optional()
      .describe(
        'Copies of every archive off the host (S3-compatible buckets, SFTP servers), each with its own keep rules.',
      ),
    encrypt: encryptSchema
      .optional()
      .describe('Encrypt the copies with age (the local archive stays plain).'),
    verify: z
      .boolean()
      .optional()
      .describe('Re-read and check the archive before it gets its final name. @default true'),
    pre: command.optional().describe('Command run before the backup; its failure cancels the backup.'),
    post: command
      .optional()
      .describe('Command run after the backup (also after a failure, once pre has run).'),
  })
  .refine((o) => o.paths !== undefined || o.sqlite !== undefined || o.postgres !== undefined, {
    error: 'nothing to back up: set paths, sqlite or postgres',
  })
  .refine((o) => o.dest !== undefined || (o.copies?.length ?? 0) > 0, {
    error:
      'nowhere to put the archive: set dest (a local directory), copies (s3:// or sftp:// destinations), or both',
  });

export type BackupOptions = z.output<typeof backupSchema>;
export type CopyOptions = z.output<typeof copySchema>;
export type EncryptOptions = z.output<typeof encryptSchema>;
