/** The `with:` options of scan-logs, and the patterns they resolve to. */
import { z } from 'zod';
import { duration, stringList } from '../../schema/values.js';
import { PatternError, planPattern, type PatternPlan } from './line-regex.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export const DEFAULT_PATTERNS: Readonly<Record<string, string>> = {
  errors: 'ERROR|CRITICAL|FATAL',
  warnings: 'WARN(ING)?',
};

/** Matched by default; any match is an alert unless `thresholds` allows some. */
export const DEFAULT_CRITICAL: Readonly<Record<string, string>> = {
  api_key_invalid: 'API.*key.*invalid',
  connection_failed: 'Connection.*(refused|failed)',
  disk_full: 'Disk.*full',
  out_of_memory: '(Memory|OOM).*error',
  config_missing: 'Configuration.*missing',
};

const patternValue = z.union(
  [
    z.string().min(1),
    z.strictObject({
      regex: z.string().min(1).describe('A JavaScript regular expression, matched against each line.'),
      ignore_case: z.boolean().optional().describe('Match ASCII letters in either case. @default false'),
    }),
  ],
  { error: 'expected a regular expression, or { regex, ignore_case }' },
);

const patternMap = z.record(
  z.string().regex(NAME, { error: 'a pattern name: letters, digits, _ and -, starting with a letter' }),
  patternValue,
);

export const scanLogsSchema = z
  .strictObject({
    paths: stringList('a path or glob').describe('Log files (globs allowed), relative to the config file.'),
    patterns: patternMap
      .optional()
      .describe(
        'Name → regex of lines to count. @default { errors: ERROR|CRITICAL|FATAL, warnings: WARN(ING)? }',
      ),
    critical: patternMap
      .optional()
      .describe(
        'Name → regex of lines that raise an alert on any match (threshold 0). {} turns the defaults off.',
      ),
    thresholds: z
      .record(z.string(), z.number().int().min(0), {
        error: 'expected pattern name → maximum count per scan',
      })
      .optional()
      .describe('Pattern name → most matches allowed per scan; more raises an alert and fails the run.'),
    sample_lines: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .optional()
      .describe('Last N matching lines kept per pattern, with file and line number. @default 5'),
    include_rotated: z
      .boolean()
      .optional()
      .describe('Also read rotated generations (app.log.1, app.log.2.gz, app.log-20261124…). @default false'),
    since: duration()
      .optional()
      .describe('Skip lines whose leading timestamp is older than this (lines without one are counted).'),
    on_alert: z
      .enum(['fail', 'warn'], { error: 'expected fail or warn' })
      .optional()
      .describe('What an alert does to the run. @default fail'),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Worker threads for a big file. @default the number of cores'),
  })
  .superRefine((o, ctx) => {
    const seen = new Map<string, string>();
    if (o.critical === undefined) {
      for (const name of Object.keys(DEFAULT_CRITICAL)) seen.set(name, 'the default critical patterns');
    }
    for (const [section, map] of [
      ['patterns', o.patterns],
      ['critical', o.critical],
    ] as const) {
      for (const [name, value] of Object.entries(map ?? {})) {
        const other = seen.get(name);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: [section, name],
            message: `"${name}" is already a name in ${other}`,
          });
        }
        seen.set(name, section);
        const p = typeof value === 'string' ? { regex: value, ignore_case: false } : value;
        try {
          planPattern(name, p.regex, p.ignore_case ?? false);
        } catch (err) {
          if (!(err instanceof PatternError)) throw err;
          ctx.addIssue({ code: 'custom', path: [section, name], message: err.message });
        }
      }
    }
    const names = new Set([
      ...Object.keys(o.patterns ?? DEFAULT_PATTERNS),
      ...Object.keys(o.critical ?? DEFAULT_CRITICAL),
    ]);
    for (const name of Object.keys(o.thresholds ?? {})) {
      if (!names.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['thresholds', name],
          message: `no pattern named "${name}" (known: ${[...names].join(', ')})`,
        });
      }
    }
  });

export type ScanLogsOptions = z.output<typeof scanLogsSchema>;

export interface ResolvedPattern {
  readonly plan: PatternPlan;
  readonly critical: boolean;
  /** Most matches per scan before an alert; undefined: never alerts. */
  readonly threshold: number | undefined;
}

export function resolvePatterns(o: ScanLogsOptions): ResolvedPattern[] {
  const out: ResolvedPattern[] = [];
  const add = (map: Record<string, string | { regex: string; ignore_case?: boolean }>, critical: boolean) => {
    for (const [name, value] of Object.entries(map)) {
      const p = typeof value === 'string' ? { regex: value, ignore_case: false } : value;
      const explicit = o.thresholds?.[name];
      out.push({
        plan: planPattern(name, p.regex, p.ignore_case ?? false),
        critical,
        threshold: explicit ?? (critical ? 0 : undefined),
      });
    }
  };
  add(o.patterns ?? DEFAULT_PATTERNS, false);
  add(o.critical ?? DEFAULT_CRITICAL, true);
  return out;
}
