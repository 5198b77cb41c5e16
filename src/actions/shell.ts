/** `shell`: runs a command in its own process group; killed with the group on timeout. */
import { z } from 'zod';
import { envMap, stringList } from '../config/schema-types.js';
import { formatDuration } from '../core/duration.js';
import { runInProcessGroup } from './process-group.js';
import { defineAction } from './types.js';

const schema = z.strictObject({
  command: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
      error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...] (run directly)',
    })
    .describe('A command line run by /bin/sh -c, or [program, args...] run without a shell.'),
  cwd: z
    .string()
    .optional()
    .describe('Working directory, relative to the config file. @default its directory'),
  env: envMap().optional().describe('Extra environment variables.'),
  inherit_env: z.boolean().optional().describe("Pass caretaker's own environment on. @default true"),
  success_codes: z
    .array(z.number().int().min(0).max(255))
    .min(1)
    .optional()
    .describe('Exit codes that count as success. @default [0]'),
  warning_codes: z
    .array(z.number().int().min(0).max(255))
    .optional()
    .describe('Exit codes that count as success with a warning. @default []'),
  stdin: z.string().optional().describe("Text written to the command's standard input."),
  paths: stringList('a path').optional().describe('Files this command may modify (for rollback points).'),
});

export const shellAction = defineAction({
  name: 'shell',
  description: 'Run a command (own process group; the whole group is killed on timeout)',
  schema,
  modifies: (o, resolvePath) => (o.paths ?? []).map(resolvePath),
  async run(ctx, o) {
    const cwd = ctx.resolvePath(o.cwd ?? '.');
    const shown = typeof o.command === 'string' ? o.command : o.command.join(' ');
    if (ctx.dryRun) {
      return {
        ok: true,
        summary: `would run: ${shown}`,
        changed: false,
        plan: [`run \`${shown}\` in ${cwd}`],
      };
    }
    const env = {
      ...(o.inherit_env === false ? {} : process.env),
      ...o.env,
      CARETAKER_TASK: ctx.taskId,
      CARETAKER_RUN_ID: String(ctx.runId),
    };
    const r = await runInProcessGroup({
      command: o.command,
      cwd,
      env,
      signal: ctx.signal,
      killGraceMs: ctx.killGraceMs,
      clock: ctx.clock,
      onOutput: (t) => ctx.output(t),
      stdin: o.stdin,
      onStart: (pgid) => ctx.trackProcess(pgid),
    });
    if (r.spawnError) return { ok: false, summary: r.spawnError, exitCode: null, changed: false };
    const success = o.success_codes ?? [0];
    const warn = o.warning_codes ?? [];
    const took = formatDuration(r.durationMs);
    if (r.exitCode === null) {
      return {
        ok: false,
        summary: `killed by ${r.signal ?? 'a signal'} after ${took}`,
        exitCode: null,
        changed: true,
        details: { signal: r.signal, pid: r.pid },
      };
    }
    const ok = success.includes(r.exitCode) || warn.includes(r.exitCode);
    return {
      ok,
      summary: `exit ${r.exitCode} after ${took}`,
      exitCode: r.exitCode,
      changed: true,
      warnings: warn.includes(r.exitCode)
        ? [`exit code ${r.exitCode} is listed in warning_codes`]
        : undefined,
      details: { pid: r.pid },
    };
  },
});
