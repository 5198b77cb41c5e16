/**
 * `command`: any command; its exit code gives the status (0 ok; `warn_codes`; with `nagios: true`
 * the plugin convention 0 ok, 1 warning, 2 critical, 3 unknown), its output is captured.
 * In a dry run it is not run: a command may change things.
 */
import { z } from 'zod';
import { envMap } from '../../schema/values.js';
import { formatDuration } from '../../core/duration.js';
import { defineCheck, type CheckStatus } from './check-types.js';
import { common } from './common-options.js';

const codes = z.array(z.number().int().min(0).max(255));

export const commandCheck = defineCheck({
  kind: 'command',
  schema: z.strictObject({
    command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
      error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
    }),
    cwd: z.string().optional(),
    env: envMap().optional(),
    ok_codes: codes.min(1).optional().describe('@default [0]'),
    warn_codes: codes.optional().describe('@default []'),
    nagios: z.boolean().optional().describe('Exit codes as Nagios plugins use them. @default false'),
    ...common,
  }),
  defaultTimeoutMs: 30_000,
  nameOf: (s) => (typeof s.command === 'string' ? s.command : s.command.join(' ')).split(/\s+/)[0]!,
  async run(s, ctx) {
    const shown = typeof s.command === 'string' ? s.command : s.command.join(' ');
    if (ctx.dryRun) return { status: 'skipped', value: null, message: `dry run: would run \`${shown}\`` };
    let out = '';
    // child_process loads with the first command check, not with the schema every config load reads.
    const { runInProcessGroup } = await import('../../os/process-group.js');
    const r = await runInProcessGroup({
      command: s.command,
      cwd: ctx.resolvePath(s.cwd ?? '.'),
      env: { ...process.env, ...s.env },
      signal: ctx.signal,
      killGraceMs: ctx.killGraceMs,
      clock: ctx.clock,
      onOutput: (t) => (out = (out + t).slice(-8_192)),
    });
    const first = out.trim().split('\n')[0]?.slice(0, 200) ?? '';
    if (r.spawnError) return { status: 'fail', value: null, message: r.spawnError };
    if (r.exitCode === null)
      return {
        status: 'fail',
        value: null,
        message: `killed by ${r.signal ?? 'a signal'}`,
        details: { output: out },
      };
    const code = r.exitCode;
    let status: CheckStatus;
    if (s.nagios) status = code === 0 ? 'ok' : code === 1 ? 'warn' : 'fail';
    else
      status = (s.ok_codes ?? [0]).includes(code)
        ? 'ok'
        : (s.warn_codes ?? []).includes(code)
          ? 'warn'
          : 'fail';
    return {
      status,
      value: code,
      unit: 'exit code',
      message: `exit ${code} after ${formatDuration(r.durationMs)}${first ? `: ${first}` : ''}`,
      details: { output: out },
    };
  },
});
