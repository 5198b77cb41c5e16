/** history, metrics and cleanup. */
import type { HostMetricsReport, RunRecord } from '../../caretaker.js';
import { loadedStamp, locateState, openHistory } from '../../caretaker-tools.js';
import { formatSize } from '../../core/size.js';
import { ConfigError } from '../../errors/config-error.js';
import { UsageError } from '../../errors/usage-error.js';
import { positiveInt } from '../options.js';
import { configPath, openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { ms, oneLine, percent, relative, table } from '../format.js';
import { plural } from '../../core/plural.js';

export async function historyCommand(
  id: string | undefined,
  opts: GlobalOptions & { limit?: string; host?: string },
  io: Io,
): Promise<number> {
  const limit = positiveInt(opts.limit, '--limit', 20);
  if (opts.host === '') throw new UsageError('--host expects a host name');
  const runs = await pastRuns({ task: id, limit, host: opts.host }, opts, io);
  if (opts.json) {
    printJson(io, runs);
    return 0;
  }
  if (runs.length === 0) {
    const on = opts.host === undefined ? '' : ` on ${opts.host}`;
    io.out(id ? `${id} has not run yet${on}` : `no runs yet${on}`);
    return 0;
  }
  const now = Date.now();
  // A history of several hosts (a fleet) says whose run each is.
  const hosts = new Set(runs.map((r) => r.host)).size > 1;
  io.out(
    table(
      ['RUN', 'TASK', ...(hosts ? ['HOST'] : []), 'STATUS', 'STARTED', 'DURATION', 'EXIT', 'SUMMARY'],
      runs.map((r) => [
        `#${r.id}`,
        r.task,
        ...(hosts ? [r.host] : []),
        r.trigger === 'rollback' || r.trigger === 'restore'
          ? `${r.status} (${r.trigger})`
          : r.dryRun
            ? `${r.status} (dry)`
            : r.attempt > 1
              ? `${r.status} (try ${r.attempt})`
              : r.status,
        relative(r.startedAt ?? r.queuedAt, now),
        ms(r.durationMs),
        r.exitCode === null ? '-' : String(r.exitCode),
        oneLine(r.reason ?? r.result?.summary, 70),
      ]),
    ),
  );
  return 0;
}

/**
 * The runs, newest first. With a configuration that has errors, the history is still there: read
 * it from the store, with a warning (the unknown-task check needs the configuration, so it waits).
 *
 * Fast path: when a daemon loaded this very file (its stamp has the file's SHA-256), the file is
 * known to load, so there is no warning to print, and the store is read without loading and
 * validating the configuration. The configuration is needed only when an id matches no run (is
 * it a task that has not run yet, or an unknown id?): then the full path below decides.
 */
interface PastRunsQuery {
  readonly task: string | undefined;
  readonly limit: number;
  readonly host: string | undefined;
}

async function pastRuns(q: PastRunsQuery, opts: GlobalOptions, io: Io): Promise<RunRecord[]> {
  const location = locateState(configPath(opts));
  if (loadedStamp(location.file, location.stateDir)?.same) {
    const history = await openHistory(location.store);
    let runs: RunRecord[];
    try {
      runs = await history.history(q);
    } finally {
      await history.close();
    }
    if (runs.length > 0 || q.task === undefined) return runs;
  }
  return pastRunsOfConfig(q, opts, io);
}

async function pastRunsOfConfig(q: PastRunsQuery, opts: GlobalOptions, io: Io): Promise<RunRecord[]> {
  const id = q.task;
  let caretaker;
  try {
    caretaker = await openCaretaker(opts, { readonly: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const location = locateState(configPath(opts));
    if (!opts.json)
      io.err(
        `warning: ${location.file} has errors (caretaker validate lists them); reading the history in ${location.storeLabel}`,
      );
    const history = await openHistory(location.store);
    try {
      return await history.history(q);
    } finally {
      await history.close();
    }
  }
  try {
    const runs = await caretaker.history(q);
    if (id !== undefined && runs.length === 0 && !caretaker.config.tasks.some((t) => t.id === id)) {
      const ids = caretaker.config.tasks.map((t) => t.id);
      throw new UsageError(`unknown task "${id}"; tasks: ${ids.join(', ') || '(none)'}`);
    }
    return runs;
  } finally {
    await caretaker.close();
  }
}

export async function metricsCommand(
  opts: GlobalOptions & { days?: string; byHost?: boolean },
  io: Io,
): Promise<number> {
  const days = positiveInt(opts.days, '--days', 30);
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    if (opts.byHost) {
      const h = await caretaker.metricsByHost(days);
      if (opts.json) printJson(io, h);
      else io.out(renderHostMetrics(h));
      return 0;
    }
    const m = await caretaker.metrics(days);
    if (opts.json) {
      printJson(io, m);
      return 0;
    }
    io.out(`runs from ${m.fromDay} to ${m.toDay} (${plural(m.days, 'day')})`);
    const row = (t: (typeof m.tasks)[number]) => [
      t.task,
      String(t.runs),
      percent(t.successRate),
      ms(t.avgMs),
      ms(t.p50Ms),
      ms(t.p95Ms),
      ms(t.maxMs),
      t.trend,
    ];
    io.out(
      table(
        ['TASK', 'RUNS', 'SUCCESS', 'AVG', 'P50', 'P95', 'MAX', 'TREND'],
        [...m.tasks.map(row), ...(m.tasks.length > 1 ? [row(m.total)] : [])],
      ),
    );
    return 0;
  } finally {
    await caretaker.close();
  }
}

function renderHostMetrics(h: HostMetricsReport): string {
  const head = `runs from ${h.fromDay} to ${h.toDay} (${plural(h.days, 'day')}) per host, from the runs kept in history`;
  if (h.tasks.length === 0) return `${head}\nno runs in the window`;
  const row = (t: HostMetricsReport['tasks'][number]) => [
    t.task,
    t.host,
    String(t.runs),
    percent(t.successRate),
    ms(t.avgMs),
    ms(t.p50Ms),
    ms(t.p95Ms),
    ms(t.maxMs),
    t.trend,
  ];
  return [
    head,
    table(
      ['TASK', 'HOST', 'RUNS', 'SUCCESS', 'AVG', 'P50', 'P95', 'MAX', 'TREND'],
      [...h.tasks.map(row), ...(h.hosts.length > 1 ? h.hosts.map(row) : [])],
    ),
  ].join('\n');
}

export async function cleanupCommand(
  opts: GlobalOptions & { historyDays?: string; rollbackDays?: string },
  io: Io,
): Promise<number> {
  if (opts.historyDays === undefined && opts.rollbackDays === undefined)
    throw new UsageError(
      'cleanup needs --history-days N (runs older than N days are deleted) and/or --rollback-days N (rollback points)',
    );
  const keepDays =
    opts.historyDays === undefined ? undefined : positiveInt(opts.historyDays, '--history-days', 90);
  const rollbackDays =
    opts.rollbackDays === undefined ? undefined : positiveInt(opts.rollbackDays, '--rollback-days', 30);
  const caretaker = await openCaretaker(opts);
  try {
    const r = keepDays === undefined ? undefined : await caretaker.pruneHistory(keepDays);
    const rb = rollbackDays === undefined ? undefined : await caretaker.cleanupRollbacks(rollbackDays);
    if (opts.json) {
      printJson(io, rb === undefined ? r : { ...r, rollback: rb });
      return 0;
    }
    if (r && keepDays !== undefined)
      io.out(
        `deleted ${plural(r.runsDeleted, 'run')} older than ${plural(keepDays, 'day')} (or beyond ${caretaker.config.history.keepRunsPerTask} per task)`,
      );
    if (rb && rollbackDays !== undefined)
      io.out(
        `deleted ${plural(rb.pointsDeleted.length, 'rollback point')} older than ${plural(rollbackDays, 'day')}${rb.pointsDeleted.length ? ` (${rb.pointsDeleted.join(', ')})` : ''}; ${plural(rb.blobsDeleted, 'stored file')} no longer needed, ${formatSize(rb.bytesFreed)} freed`,
      );
    return 0;
  } finally {
    await caretaker.close();
  }
}
