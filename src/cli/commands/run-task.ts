/**
 * run-task ID [--wait] [--dry-run] [--format text|json|github]: through the running daemon when
 * there is one, else here. In GitHub Actions (or with --format github) a finished run is also
 * printed as workflow annotations and a line of the job summary.
 */
import { appendFileSync } from 'node:fs';
import { UsageError } from '../../errors/usage-error.js';
import { DaemonError, findDaemon } from '../../server/client.js';
import { SUCCESS_STATUSES, type RunRecord } from '../../store/types.js';
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { githubAnnotations, githubStepSummary } from '../../report/github-annotations.js';
import { ms } from '../format.js';
import { ProgressBar } from '../progress-bar.js';

export function exitCodeForRun(run: RunRecord): number {
  return SUCCESS_STATUSES.includes(run.status) ? 0 : 1;
}

export function renderRun(run: RunRecord, io: Io): void {
  const result = run.result;
  io.out(
    `run #${run.id} of ${run.task}: ${run.status}${run.dryRun ? ' (dry run)' : ''} in ${ms(run.durationMs)}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''}`,
  );
  if (result?.summary) io.out(result.summary);
  if (run.reason && run.reason !== result?.summary) io.out(run.reason);
  for (const w of result?.warnings ?? []) io.out(`warning: ${w}`);
  // A one-step plan is already the summary ("would run: …").
  const plan = result?.plan ?? [];
  if (plan.length > 1 || !result?.summary.startsWith('would'))
    for (const step of plan) io.out(`  would: ${step}`);
  const tail = run.outputTail?.trimEnd();
  if (tail && tail !== result?.summary) io.out(`--- output (tail) ---\n${tail}`);
}

export const RUN_FORMATS = ['text', 'json', 'github'] as const;
type RunFormat = (typeof RUN_FORMATS)[number];

/** --format wins; then --json; in a GitHub Actions job, github; else text. */
export function runFormat(opts: { format?: string; json?: boolean }, env: NodeJS.ProcessEnv): RunFormat {
  if (opts.format !== undefined) {
    if (!(RUN_FORMATS as readonly string[]).includes(opts.format))
      throw new UsageError(`unknown --format "${opts.format}"; expected one of ${RUN_FORMATS.join(', ')}`);
    return opts.format as RunFormat;
  }
  if (opts.json) return 'json';
  return env.GITHUB_ACTIONS === 'true' ? 'github' : 'text';
}

function printRun(run: RunRecord, format: RunFormat, baseDir: string, io: Io): void {
  if (format === 'json') return printJson(io, run);
  renderRun(run, io);
  if (format !== 'github') return;
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  for (const line of githubAnnotations(run, { baseDir, workspace })) io.out(line);
  const summaryFile = process.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) appendFileSync(summaryFile, githubStepSummary(run));
}

export async function runTaskCommand(
  id: string,
  opts: GlobalOptions & { wait?: boolean; dryRun?: boolean; format?: string },
  io: Io,
): Promise<number> {
  const format = runFormat(opts, process.env);
  const caretaker = await openCaretaker(opts);
  const baseDir = caretaker.config.dir;
  const known = caretaker.config.tasks.some((t) => t.id === id);
  const stateDir = caretaker.config.stateDir;
  const daemon = known ? await findDaemon(stateDir) : undefined;
  if (daemon) {
    await caretaker.close();
    let run: RunRecord;
    try {
      run = await daemon.call<RunRecord>('POST', `/v1/tasks/${encodeURIComponent(id)}/runs`, {
        dryRun: opts.dryRun === true,
        wait: opts.wait === true,
      });
    } catch (err) {
      if (err instanceof DaemonError && err.exitCode === 2) throw new UsageError(err.message);
      throw err;
    }
    if (!opts.wait) {
      if (format === 'json') printJson(io, run);
      else
        io.out(
          `queued run #${run.id} of ${id} on the daemon (pid ${daemon.info.pid}); follow it with caretaker history ${id}`,
        );
      return 0;
    }
    printRun(run, format, baseDir, io);
    return exitCodeForRun(run);
  }
  // No daemon: run here, in this process, and wait for it.
  const bar = new ProgressBar();
  caretaker.on('run:progress', (p) => bar.update(p));
  try {
    const run = await caretaker.runNow(id, { dryRun: opts.dryRun === true });
    bar.done();
    printRun(run, format, baseDir, io);
    return exitCodeForRun(run);
  } finally {
    await caretaker.close();
  }
}
