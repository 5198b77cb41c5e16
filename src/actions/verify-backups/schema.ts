/** The `with:` options of `verify-backups`. */
import { z } from 'zod';
import { checkCopyPlace, copyCredentialsPaired, copyPlace } from '../backup/schema.js';

const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
});

export const schema = z.strictObject({
  dest: z.string().min(1).describe('The directory holding the archives.'),
  task: z
    .string()
    .min(1)
    .optional()
    .describe('Only archives of this backup task. @default every archive in dest'),
  latest: z.number().int().min(1).optional().describe('Only the newest N archives. @default all'),
  subset: z
    .string()
    .regex(/^1\/([1-9]\d*)$/, {
      error: 'expected 1/N, e.g. 1/7 (a different seventh of the archives each run)',
    })
    .optional()
    .describe('Check a different 1/N of the archives each run (restic --read-data-subset). @default all'),
  drill: z
    .boolean()
    .optional()
    .describe('Restore the newest archive into a temp dir and check it. @default false'),
  drill_command: command.optional().describe('Run in the restored tree during a drill; must exit 0.'),
  drill_dir: z.string().min(1).optional().describe('Where drills restore to. @default the system temp dir'),
  copy: z
    .strictObject({
      ...copyPlace,
      identity_file: z.string().min(1).optional().describe('age key to look inside an encrypted copy.'),
      identity_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' })
        .optional()
        .describe('Environment variable holding the age key.'),
      latest: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe(
          'How many of the newest copies to verify; with `subset`, the pool the slices are taken from. @default 1 (with `subset`: every archive of the copy)',
        ),
      drill: z
        .boolean()
        .optional()
        .describe(
          'Download the newest archive of the copy, restore it into a temp dir (under drill_dir), compare it with the local archive of that name and check it like a local drill (drill_command too). @default false',
        ),
    })
    .refine(copyCredentialsPaired, { error: 'access_key_env and secret_key_env go together' })
    .superRefine(checkCopyPlace)
    .optional()
    .describe('Also stream the newest archive(s) of this copy (S3 or SFTP) and check every checksum.'),
});
