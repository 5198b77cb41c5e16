/**
 * The `with:` options of `rotate-logs`: logrotate's directives under their own names (snake_case
 * where logrotate glues words), plus the few things logrotate lacks (`signal`, `compress_threads`).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { duration, size, stringList } from '../../schema/values.js';
import { DATEFORMAT_SPECIFIERS, hasDatePlaceholders } from './naming.js';

const DAY_MS = 86_400_000;

export const FREQUENCIES = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

const SIGNALS = ['HUP', 'USR1', 'USR2', 'TERM', 'INT', 'WINCH'] as const;

/** `maxage` counts whole days, as logrotate does: a number of days, or a duration of whole days. */
function days() {
  return z.union(
    [
      z.number().int().min(1),
      duration().transform((ms, ctx) => {
        if (ms % DAY_MS !== 0) {
          ctx.issues.push({
            code: 'custom',
            message: 'maxage counts whole days, like logrotate’s: use e.g. 1d or 30d',
            input: ms,
          });
          return z.NEVER;
        }
        return ms / DAY_MS;
      }),
    ],
    { error: 'expected a number of days such as 30, or a duration of whole days such as 30d' },
  );
}

const octalMode = z
  .string({ error: 'expected a file mode as a quoted octal string such as "0640"' })
  .regex(/^0?[0-7]{3}$/, { error: 'expected a file mode as a quoted octal string such as "0640"' })
  .transform((m) => parseInt(m, 8));

const CREATE_HINT = 'expected true/false or { mode: "0640", owner: NAME, group: NAME }';

/** `create: true` means "like the old file"; an object sets mode/owner/group; false or absent: no. */
const createSchema = z.preprocess(
  (v) => (v === true ? {} : v === false ? undefined : v),
  z
    .strictObject(
      {
        mode: octalMode.optional().describe('Mode of the new file. @default the rotated file’s mode'),
        owner: z
          .union([z.string().min(1), z.number().int().min(0)])
          .optional()
          .describe('User name or id. @default the rotated file’s owner'),
        group: z
          .union([z.string().min(1), z.number().int().min(0)])
          .optional()
          .describe('Group name or id. @default the rotated file’s group'),
      },
      { error: CREATE_HINT },
    )
    .optional(),
);

const signalSchema = z.strictObject({
  pidfile: z.string().min(1).describe('File holding the writer’s process id, relative to the config file.'),
  signal: z.enum(SIGNALS).optional().describe('Signal that makes the writer reopen its log. @default HUP'),
  wait: duration({ allowZero: true })
    .optional()
    .describe(
      'How long to wait for the writer to let go of the rotated file before compressing it. @default 5s',
    ),
});

export const rotateLogsSchema = z
  .strictObject({
    paths: stringList('a log file path or glob').describe(
      'Log files to rotate: paths or globs, relative to the config file.',
    ),
    frequency: z
      .enum(FREQUENCIES)
      .optional()
      .describe(
        'Rotate at most this often (logrotate’s daily/weekly/...), remembered in a state file. @default every run (the task’s schedule decides)',
      ),
    size: size()
      .optional()
      .describe('Rotate when the log reaches this size, whatever the time (logrotate’s size).'),
    minsize: size()
      .optional()
      .describe('With frequency: rotate only when the log is at least this big as well.'),
    maxsize: size()
      .optional()
      .describe('With frequency: rotate before the time when the log grows past this size.'),
    rotate: z
      .number({ error: 'expected the number of old logs to keep (0 deletes them at once)' })
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe('Old generations to keep; 0 deletes the rotated log at once. @default 4'),
    maxage: days()
      .optional()
      .describe('Delete rotated logs older than this many whole days (on rotation, like logrotate).'),
    compress: z.boolean().optional().describe('Gzip rotated logs. @default false'),
    compress_level: z
      .number()
      .int()
      .min(1)
      .max(9)
      .optional()
      .describe('gzip level, 1 (fast) to 9 (small). @default 6'),
    compress_threads: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'Worker threads that compress (several files and blocks of one file at once). @default the number of CPU cores',
      ),
    delaycompress: z
      .boolean()
      .optional()
      .describe('Keep the newest rotated log uncompressed until the next rotation. @default false'),
    copytruncate: z
      .boolean()
      .optional()
      .describe('Copy the log then truncate it, for writers that cannot reopen their file. @default false'),
    create: createSchema
      .optional()
      .describe('Create a new empty log after the move (true, or { mode, owner, group }). @default false'),
    dateext: z.boolean().optional().describe('Name rotated logs by date instead of .1 .2 ... @default false'),
    dateformat: z
      .string()
      .min(1)
      .refine((f) => !f.includes('/'), { error: 'a dateformat cannot contain "/"' })
      .refine((f) => [...f.matchAll(/%(.)/g)].every((m) => DATEFORMAT_SPECIFIERS.includes(m[1]!)), {
        error: `dateformat may only use ${DATEFORMAT_SPECIFIERS.map((s) => `%${s}`).join(' ')}`,
      })
      .optional()
      .describe('The date suffix with dateext. @default -%Y%m%d'),
    dateyesterday: z
      .boolean()
      .optional()
      .describe('With dateext: use yesterday’s date (the day the lines were written). @default false'),
    extension: z
      .string()
      .min(1)
      .optional()
      .describe('Keep this extension last: app.log rotates to app.1.log (logrotate’s extension).'),
    olddir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory rotated logs go to, relative to each log’s directory; may use %Y %m %d; created as needed.',
      ),
    missingok: z.boolean().optional().describe('A missing log is not worth a warning. @default false'),
    notifempty: z.boolean().optional().describe('Do not rotate empty logs. @default false'),
    prerotate: z.string().min(1).optional().describe('Shell script run before rotating ($1 is the log).'),
    postrotate: z.string().min(1).optional().describe('Shell script run after rotating ($1 is the log).'),
    sharedscripts: z
      .boolean()
      .optional()
      .describe('Run prerotate/postrotate once for all logs ($1 is the paths pattern). @default false'),
    pause_writer: z
      .string()
      .min(1)
      .optional()
      .describe(
        'With copytruncate: the pid file of the writer, paused (SIGSTOP) for the instant between the last read and the truncate so that no line can be lost.',
      ),
    signal: signalSchema
      .optional()
      .describe('Signal the writer after rotating so that it reopens its log (the safe way).'),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message, input: o });
    if (o.size !== undefined && o.frequency !== undefined)
      issue(
        'size',
        'size and frequency exclude each other (as in logrotate, one trigger): use maxsize or minsize with frequency',
      );
    if ((o.minsize !== undefined || o.maxsize !== undefined) && o.frequency === undefined)
      issue(
        o.minsize !== undefined ? 'minsize' : 'maxsize',
        'minsize and maxsize refine frequency: set frequency too, or use size',
      );
    if (o.delaycompress && !o.compress) issue('delaycompress', 'delaycompress needs compress: true');
    if (o.compress_level !== undefined && !o.compress)
      issue('compress_level', 'compress_level needs compress: true');
    if (o.copytruncate && o.create !== undefined)
      issue('create', 'create has no effect with copytruncate (the log is truncated, never replaced)');
    if (o.pause_writer !== undefined && !o.copytruncate)
      issue('pause_writer', 'pause_writer only makes sense with copytruncate');
    if (o.copytruncate && o.signal)
      issue('signal', 'signal is for writers that reopen; with copytruncate they do not need to');
    if ((o.dateformat !== undefined || o.dateyesterday) && !o.dateext)
      issue(o.dateformat !== undefined ? 'dateformat' : 'dateyesterday', 'needs dateext: true');
    if (o.olddir !== undefined && hasDatePlaceholders(o.olddir) && !o.dateext)
      issue(
        'olddir',
        'an olddir with %Y/%m/%d needs dateext: numbered generations cannot shift across directories',
      );
    if (o.olddir !== undefined && o.olddir.split('/').includes('..') && !o.olddir.startsWith('/'))
      issue('olddir', 'a relative olddir cannot go up with "..": give an absolute path instead');
  });

export type RotateLogsOptions = z.output<typeof rotateLogsSchema>;

export interface CreateSpec {
  readonly mode?: number;
  readonly owner?: string | number;
  readonly group?: string | number;
}

/** The options with every default applied: what the planner works from. */
export interface ResolvedRotate {
  readonly paths: readonly string[];
  readonly frequency: Frequency | undefined;
  readonly size: number | undefined;
  readonly minsize: number | undefined;
  readonly maxsize: number | undefined;
  readonly rotate: number;
  readonly maxageDays: number | undefined;
  readonly compress: boolean;
  readonly compressLevel: number;
  readonly compressThreads: number;
  readonly delaycompress: boolean;
  readonly copytruncate: boolean;
  readonly create: CreateSpec | undefined;
  readonly dateext: boolean;
  readonly dateformat: string;
  readonly dateyesterday: boolean;
  readonly extension: string | undefined;
  readonly olddir: string | undefined;
  readonly missingok: boolean;
  readonly notifempty: boolean;
  readonly prerotate: string | undefined;
  readonly postrotate: string | undefined;
  readonly sharedscripts: boolean;
  readonly signal: { pidfile: string; signal: NodeJS.Signals; waitMs: number } | undefined;
  readonly pauseWriter: string | undefined;
}

export function resolveRotate(o: RotateLogsOptions, resolvePath: (p: string) => string): ResolvedRotate {
  return {
    paths: o.paths,
    frequency: o.frequency,
    size: o.size,
    minsize: o.minsize,
    maxsize: o.maxsize,
    rotate: o.rotate ?? 4,
    maxageDays: o.maxage,
    compress: o.compress ?? false,
    compressLevel: o.compress_level ?? 6,
    compressThreads: o.compress_threads ?? availableParallelism(),
    delaycompress: o.delaycompress ?? false,
    copytruncate: o.copytruncate ?? false,
    create: o.create,
    dateext: o.dateext ?? false,
    dateformat: o.dateformat ?? '-%Y%m%d',
    dateyesterday: o.dateyesterday ?? false,
    extension: o.extension,
    olddir: o.olddir,
    missingok: o.missingok ?? false,
    notifempty: o.notifempty ?? false,
    prerotate: o.prerotate,
    postrotate: o.postrotate,
    sharedscripts: o.sharedscripts ?? false,
    pauseWriter: o.pause_writer === undefined ? undefined : resolvePath(o.pause_writer),
    signal: o.signal
      ? {
          pidfile: resolvePath(o.signal.pidfile),
          signal: `SIG${o.signal.signal ?? 'HUP'}` as NodeJS.Signals,
          waitMs: o.signal.wait ?? 5_000,
        }
      : undefined,
  };
}
