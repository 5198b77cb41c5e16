/** `caretaker store copy`: this host's SQLite history into a PostgreSQL store (the fleet's). */
import type { CopyReport } from '../../caretaker.js';
import { plural } from '../../core/plural.js';
import { UsageError } from '../../errors/usage-error.js';
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { ms } from '../format.js';
import { positiveInt } from '../options.js';
import { ProgressBar } from '../progress-bar.js';

export interface StoreCopyOptions extends GlobalOptions {
  readonly to?: string;
  readonly toEnv?: string;
  readonly schema?: string;
  readonly batch?: string;
}

/** The target URL from --to or --to-env (a variable, so a password stays off the command line). */
function targetUrl(opts: StoreCopyOptions): string {
  if (opts.to !== undefined && opts.toEnv !== undefined)
    throw new UsageError('store copy takes --to URL or --to-env NAME, not both');
  if (opts.toEnv !== undefined) {
    const url = process.env[opts.toEnv];
    if (url === undefined || url === '')
      throw new UsageError(
        `--to-env: the environment variable ${opts.toEnv} is not set (expected a postgres:// URL)`,
      );
    return url;
  }
  if (opts.to === undefined || opts.to === '')
    throw new UsageError(
      'store copy needs --to postgres://user@host/db (or --to-env NAME, a variable holding a URL with its password)',
    );
  return opts.to;
}

export async function storeCopyCommand(opts: StoreCopyOptions, io: Io): Promise<number> {
  const url = targetUrl(opts);
  const batchSize = positiveInt(opts.batch, '--batch', 2000);
  if (opts.schema !== undefined && (opts.schema === '' || opts.schema.length > 63))
    throw new UsageError(`--schema expects a name of 1-63 characters, got "${opts.schema}"`);
  const caretaker = await openCaretaker(opts);
  // On a terminal, the runs copied so far (a host's months of history take seconds).
  const bar = new ProgressBar();
  let report: CopyReport;
  try {
    report = await caretaker.copyHistoryTo(
      { url, schema: opts.schema },
      { batchSize, onBatch: (done) => bar.update({ done, unit: 'rows', label: 'runs copied' }) },
    );
  } finally {
    bar.done();
    await caretaker.close();
  }
  if (opts.json) printJson(io, report);
  else io.out(renderCopy(report));
  return 0;
}

export function renderCopy(r: CopyReport): string {
  const c = r.copied;
  const leftOut =
    r.runsLeftOut > 0
      ? `${plural(r.runsLeftOut, 'queued or running run')} left out (still in progress, or left by a daemon that crashed and is marked interrupted at its next start); a later store copy takes ${r.runsLeftOut === 1 ? 'it' : 'them'} once finished`
      : null;
  const total = Object.values(c).reduce((s, n) => s + n, 0);
  if (total === 0) {
    return [
      `nothing to copy: everything in ${r.source} is already in ${r.target} (${plural(r.runsCopiedBefore, 'run')} copied before)`,
      ...(leftOut ? [leftOut] : []),
    ].join('\n');
  }
  const rate = r.ms > 0 && c.runs > 0 ? `, ${Math.round((c.runs / r.ms) * 1000)} runs/s` : '';
  return [
    `copied ${r.source} into ${r.target}:`,
    `  runs          ${c.runs}${r.runsCopiedBefore > 0 ? ` (${r.runsCopiedBefore} copied before)` : ''}`,
    `  task states   ${c.taskStates}`,
    `  daily stats   ${plural(c.dailyStats, 'row')} (task × day) added to`,
    `  samples       ${c.samples}`,
    `  incidents     ${c.incidents} closed, with ${plural(c.deliveries, 'delivery', 'deliveries')}${r.incidentsLeftOut > 0 ? ` (${r.incidentsLeftOut} open left out: they stay with this host's alerting)` : ''}`,
    `  pings         ${c.pings}`,
    `  pauses        ${c.pauses}${c.pauses > 0 ? ' (a paused task is paused on every host of the fleet)' : ''}`,
    ...(leftOut ? [leftOut] : []),
    `in ${ms(Math.round(r.ms))} (${plural(r.batches, 'batch', 'batches')}${rate})`,
  ].join('\n');
}
