/** `shell`: runs a command in its own process group; killed with the group on timeout. */
import { formatDuration } from '../core/duration.js';
import { runInProcessGroup } from '../os/process-group.js';
import { shellDeclaration } from './shell/declaration.js';
import { defineAction } from './types.js';

export const shellAction = defineAction({
  ...shellDeclaration,
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
