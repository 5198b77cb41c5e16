/**
 * run-task ID [--wait] [--dry-run] [--force] [--no-retry] [--format text|json|github]: through the
 * running daemon when there is one, else here. A disabled task needs --force; a window does not
 * hold a manual run back (one line says so); `retries` apply unless --no-retry. In GitHub Actions (or with --format github) a finished run is also
 * printed as workflow annotations and a line of the job summary.
 */
import { auditedByCli } from './access.js';
import { appendFileSync } from 'node:fs';
import { UsageError } from '../../errors/usage-error.js';
import { SUCCESS_STATUSES, type RunRecord } from '../../caretaker.js';
import {
  locateDaemon,
  openCaretaker,
  printJson,
  warnIfConfigChanged,
  type GlobalOptions,
  type Io,
} from '../context.js';
import { githubAnnotations, githubStepSummary } from '../../report/github-annotations.js';
import { ms } from '../format.js';
import { ProgressBar } from '../progress-bar.js';

export function exitCodeForRun(run: RunRecord): number {
  return SUCCESS_STATUSES.includes(run.status) ? 0 : 1;
}

export function renderRun(run: RunRecord, io: Io): void {
  const result = run.result;
  io.out(
    `run #${run.id}${run.id < 0 ? ' (not in the history yet: recorded once the store takes writes again)' : ''} of ${run.task}: ${run.status}${run.dryRun ? ' (dry run)' : ''} in ${ms(run.durationMs)}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''}`,
  );
  if (result?.summary) io.out(result.summary);
  if (run.reason && run.reason !== result?.summary) io.out(run.reason);
  for (const w of result?.warnings ?? []) io.out(`warning: ${w}`);
  // The plan is what a dry run is for: every step is printed, unless the only one is already the
  // summary ("would run: X" for the step "run `X` in DIR").
  const plan = result?.plan ?? [];
  const summary = result?.summary ?? '';
  const echoed =
    plan.length === 1 && summary.startsWith('would run: ') && plan[0]!.includes(summary.slice(11));
  if (!echoed) for (const step of plan) io.out(`  would: ${step}`);
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
  opts: GlobalOptions & {
    wait?: boolean;
    dryRun?: boolean;
    format?: string;
    force?: boolean;
    retry?: boolean;
  },
  io: Io,
): Promise<number> {
  const format = runFormat(opts, process.env);
  // Through the daemon when one runs: it knows the tasks (of the configuration it loaded).
  const { location, daemon } = await locateDaemon(opts);
  const baseDir = location.dir;
  if (daemon) {
    await warnIfConfigChanged(location, io, opts.json);
    // The daemon's refusals carry their exit code (an unknown task: 2) like any error here.
    const { notice, ...run } = await daemon.call<RunRecord & { notice?: string }>(
      'POST',
      `/v1/tasks/${encodeURIComponent(id)}/runs`,
      {
        dryRun: opts.dryRun === true,
        wait: opts.wait === true,
        force: opts.force === true,
        retry: opts.retry !== false,
      },
    );
    if (notice) io.err(notice);
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
  const caretaker = await openCaretaker(opts);
  const bar = new ProgressBar();
  caretaker.on('run:progress', (p) => bar.update(p));
  caretaker.on('run:finished', (r, info) => {
    if (info.retrying)
      io.err(`run #${r.id} of ${r.task}: ${r.status}; it will be retried (--no-retry: do not)`);
  });
  try {
    const start = () =>
      caretaker.runNow(id, {
        dryRun: opts.dryRun === true,
        force: opts.force === true,
        retry: opts.retry !== false,
        wait: false,
      });
    // Run here, not through a daemon (which audits its own): the audit row is this command's.
    const queued = await auditedByCli(caretaker, { action: 'run', target: id }, start, (r) =>
      r.dryRun ? `run #${r.id} (dry run)` : `run #${r.id}`,
    );
    const notice = await caretaker.manualRunNotice(id);
    if (notice) io.err(notice);
    const run = await caretaker.waitForRun(queued.id, { followRetries: true });
    bar.done();
    printRun(run, format, baseDir, io);
    return exitCodeForRun(run);
  } finally {
    await caretaker.close();
  }
}
