/** ping NAME [--fail], notify-test [CHANNEL], report, export. */
import { resolve } from 'node:path';
import type { PingRecord } from '../../caretaker.js';
import { EXPORT_FORMATS, toCsv, type ExportFormat } from '../../core/dataset.js';
import { UsageError } from '../../errors/usage-error.js';
import { positiveInt } from '../options.js';
import { writeReportFile } from '../../report/report-files.js';
import { renderSummaryMarkdown } from '../../report/summary-report.js';
import { findDaemon } from '../../server/client.js';
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { table } from '../format.js';

export async function pingCommand(
  name: string,
  opts: GlobalOptions & { fail?: boolean; message?: string },
  io: Io,
): Promise<number> {
  const caretaker = await openCaretaker(opts);
  let ping: PingRecord;
  try {
    const known = caretaker.config.alerting.watches.some((w) => w.name === name);
    const daemon = known ? await findDaemon(caretaker.config.stateDir) : undefined;
    if (daemon) {
      ping = await daemon.call<PingRecord>('POST', `/v1/pings/${encodeURIComponent(name)}`, {
        fail: opts.fail === true,
        message: opts.message,
      });
    } else {
      // Unknown names throw a UsageError here, daemon or not.
      ping = await caretaker.ping(name, { ok: opts.fail !== true, message: opts.message, source: 'cli' });
    }
  } finally {
    await caretaker.close();
  }
  if (opts.json) printJson(io, ping);
  else io.out(`${name}: ${ping.ok ? 'ok' : 'failure'} recorded at ${new Date(ping.at).toISOString()}`);
  return 0;
}

export async function notifyTestCommand(
  channel: string | undefined,
  opts: GlobalOptions,
  io: Io,
): Promise<number> {
  const caretaker = await openCaretaker(opts);
  try {
    const results = await caretaker.testChannels(channel);
    if (opts.json) printJson(io, results);
    else
      io.out(
        table(
          ['CHANNEL', 'RESULT', 'ATTEMPTS', 'ERROR'],
          results.map((r) => [r.channel, r.ok ? 'sent' : 'FAILED', String(r.attempts), r.error ?? '']),
        ),
      );
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await caretaker.close();
  }
}

export async function reportCommand(
  opts: GlobalOptions & { days?: string; format?: string; output?: string },
  io: Io,
): Promise<number> {
  const days = positiveInt(opts.days, '--days', 7);
  const format = opts.json ? 'json' : (opts.format ?? 'md');
  if (!['md', 'json', 'csv'].includes(format))
    throw new UsageError(`--format expects md, json or csv, got "${format}"`);
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    const s = await caretaker.summaryReport(days);
    let text: string;
    if (format === 'json') text = `${JSON.stringify(s, null, 2)}\n`;
    else if (format === 'csv') {
      const cols = [
        'task',
        'owner',
        'runs',
        'successes',
        'failures',
        'success_rate',
        'avg_ms',
        'p95_ms',
        'max_ms',
        'bytes_freed',
        'trend',
      ];
      text = toCsv({
        name: 'report',
        columns: cols,
        rows: s.tasks.map((t) => [
          t.task,
          t.owner,
          t.runs,
          t.successes,
          t.failures,
          t.successRate,
          t.avgMs === null ? null : Math.round(t.avgMs),
          t.p95Ms === null ? null : Math.round(t.p95Ms),
          t.maxMs,
          t.bytesFreed,
          t.trend,
        ]),
      });
    } else text = renderSummaryMarkdown(s);
    if (opts.output) {
      writeReportFile(resolve(opts.output), text);
      io.out(`report written to ${resolve(opts.output)}`);
    } else io.out(text.trimEnd());
    return 0;
  } finally {
    await caretaker.close();
  }
}

export async function exportCommand(
  opts: GlobalOptions & { format?: string; output?: string; days?: string },
  io: Io,
): Promise<number> {
  if (!opts.output)
    throw new UsageError('export needs --output DIR (the directory the files are written to)');
  const formats = (opts.format ?? 'csv').split(',').map((f) => f.trim());
  for (const f of formats)
    if (!(EXPORT_FORMATS as readonly string[]).includes(f))
      throw new UsageError(`--format expects csv, json or md (or a list such as csv,md), got "${f}"`);
  const days = positiveInt(opts.days, '--days', 30);
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    const written = await caretaker.exportRecords({
      dir: opts.output,
      formats: formats as ExportFormat[],
      days,
    });
    if (opts.json) printJson(io, written);
    else
      io.out(
        table(
          ['FILE', 'ROWS', 'BYTES'],
          written.map((w) => [w.file, String(w.rows), String(w.bytes)]),
        ),
      );
    return 0;
  } finally {
    await caretaker.close();
  }
}
