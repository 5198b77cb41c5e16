/**
 * `scan-logs`: incremental error monitoring. Each run reads only the bytes appended since the
 * previous one (per file identity, surviving rotation and truncation), counts the lines matching
 * each named pattern exactly as `grep -c` would, keeps the last matching lines as samples, and
 * raises alerts when a threshold is passed. See docs/actions/scan-logs.md.
 */
import { join } from 'node:path';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { PathGuard } from '../safety/path-guard.js';
import { loadState, pruneState, saveState, STATE_FILE, type FileRecord } from './scan-logs/file-state.js';
import type { ScanPlan } from './scan-logs/line-scanner.js';
import { scanLogsDeclaration } from './scan-logs/declaration.js';
import { resolvePatterns, type ResolvedPattern } from './scan-logs/options.js';
import {
  collectFiles,
  scanOne,
  scanRenamed,
  type FileScan,
  type ScanRunInput,
} from './scan-logs/scan-files.js';
import { defineAction, type ActionResult } from './types.js';

export interface ScanAlert {
  readonly pattern: string;
  readonly count: number;
  readonly threshold: number;
  readonly critical: boolean;
  readonly message: string;
}

export interface ScanSampleOut {
  readonly file: string;
  /** 1-based; null when it could not be known (lines were not counted in an earlier run). */
  readonly line: number | null;
  readonly text: string;
}

function fileDetails(f: FileScan, patterns: readonly ResolvedPattern[]) {
  return {
    path: f.path,
    reason: f.reason,
    previousPath: f.previousPath,
    from: f.from,
    to: f.to,
    bytes: f.tally?.bytes ?? 0,
    compressed: f.gz || undefined,
    workers: f.workers || undefined,
    counts: Object.fromEntries(patterns.map((p, k) => [p.plan.name, f.tally?.counts[k] ?? 0])),
  };
}

/** The last `keep` samples per pattern over all files, the most recently written file last. */
function mergeSamples(scans: readonly FileScan[], patterns: readonly ResolvedPattern[], keep: number) {
  const ordered = [...scans].sort((a, b) => a.mtimeMs - b.mtimeMs);
  return Object.fromEntries(
    patterns.map((p, k) => {
      const all: ScanSampleOut[] = [];
      for (const f of ordered) {
        for (const s of f.tally?.samples[k] ?? []) {
          all.push({ file: f.path, line: f.lineBase >= 0 ? f.lineBase + s.line : null, text: s.text });
        }
      }
      return [p.plan.name, all.slice(-keep)];
    }),
  );
}

export const scanLogsAction = defineAction({
  ...scanLogsDeclaration,
  async run(ctx, o): Promise<ActionResult> {
    const patterns = resolvePatterns(o);
    const plans: ScanPlan[] = patterns.map(({ plan }) => ({
      name: plan.name,
      source: plan.source,
      flags: plan.flags,
      literal: plan.literal,
      literalIsMatch: plan.literalIsMatch,
    }));
    const now = ctx.clock.now();
    const sampleLines = o.sample_lines ?? 5;
    const settings = { sinceMs: o.since !== undefined ? now - o.since : undefined, sampleLines };
    const warnings: string[] = [];
    const { state, note } = await loadState(ctx.taskStateDir);
    if (note) warnings.push(note);
    const guard = new PathGuard({ stateDir: ctx.stateDir });
    const { files, live } = await collectFiles(o.paths, o.include_rotated === true, ctx.baseDir, guard, (m) =>
      warnings.push(m),
    );

    let done = 0;
    const run: ScanRunInput = {
      plans,
      settings,
      signal: ctx.signal,
      threads: o.threads,
      now,
      prev: state.files,
      next: { ...state.files },
      warn: (m) => warnings.push(m),
      unreadTruncations: [],
      progress: (bytes, label) => {
        done += bytes;
        ctx.progress({ done, unit: 'bytes', label });
      },
    };
    const seen = new Set<string>();
    const scans: FileScan[] = [];
    for (const path of files) {
      ctx.signal.throwIfAborted();
      try {
        scans.push(...(await scanOne(path, run, seen)));
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        warnings.push(`${path}: not read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    if (o.include_rotated !== true) scans.push(...(await scanRenamed(live, run, seen)));

    const counts = Object.fromEntries(
      patterns.map((p, k) => [p.plan.name, scans.reduce((sum, f) => sum + (f.tally?.counts[k] ?? 0), 0)]),
    );
    const samples = mergeSamples(scans, patterns, Math.max(1, sampleLines));
    const alerts: ScanAlert[] = patterns
      .filter((p) => p.threshold !== undefined && counts[p.plan.name]! > p.threshold)
      .map((p) => {
        const n = counts[p.plan.name]!;
        const last = samples[p.plan.name]?.at(-1);
        const where = last
          ? `; last: ${last.file}${last.line !== null ? `:${last.line}` : ''}: ${last.text.slice(0, 200)}`
          : '';
        return {
          pattern: p.plan.name,
          count: n,
          threshold: p.threshold!,
          critical: p.critical,
          message: `${p.plan.name}: ${n} matching line${n === 1 ? '' : 's'} (/${p.plan.pattern}/), over the threshold of ${p.threshold}${where}`,
        };
      });
    const bytesScanned = scans.reduce((sum, f) => sum + (f.tally?.bytes ?? 0), 0);
    const skippedOld = scans.reduce((sum, f) => sum + (f.tally?.skippedOld ?? 0), 0);

    const statePath = join(ctx.taskStateDir, STATE_FILE);
    if (!ctx.dryRun)
      await saveState(
        ctx.taskStateDir,
        pruneState({ version: 1, files: run.next as Record<string, FileRecord> }, now),
      );

    const nonZero = patterns.filter((p) => counts[p.plan.name]! > 0);
    const countText =
      nonZero.length === 0
        ? 'no matching lines'
        : `${nonZero.map((p) => `${p.plan.name} ${counts[p.plan.name]}`).join(', ')}${nonZero.length < patterns.length ? ' (others 0)' : ''}`;
    let summary = `${ctx.dryRun ? 'dry run: ' : ''}scanned ${formatSize(bytesScanned)} in ${scans.length} file${scans.length === 1 ? '' : 's'}: ${countText}`;
    if (alerts.length > 0)
      summary += ` — ALERT ${alerts.map((a) => `${a.pattern} ${a.count} > ${a.threshold}`).join(', ')}`;
    const failOnAlert = (o.on_alert ?? 'fail') === 'fail';
    // Shown under the summary either way; with on_alert: warn they are what makes the run a warning.
    warnings.push(...alerts.map((a) => a.message));
    return {
      ok: !(failOnAlert && alerts.length > 0),
      summary,
      changed: false,
      warnings: warnings.length > 0 ? warnings : undefined,
      issuesFound: alerts.length,
      // The one place the engine reads alerts from (core/action-result.ts): one incident per
      // pattern, sent to channels subscribed to `threshold`, closed when the pattern is back under.
      alerts: alerts.map((a) => ({ event: 'threshold', key: a.pattern, message: a.message })),
      plan: ctx.dryRun
        ? [
            ...scans
              .filter((f) => f.to > f.from)
              .map((f) => `read ${f.path} bytes ${f.from}-${f.to} (${f.reason})`),
            `keep the read offsets in ${statePath} (not written in a dry run)`,
          ]
        : undefined,
      details: {
        counts,
        samples: sampleLines > 0 ? samples : undefined,
        files: scans.map((f) => fileDetails(f, patterns)),
        bytesScanned,
        since: o.since !== undefined ? formatDuration(o.since) : undefined,
        skippedOlderLines: settings.sinceMs !== undefined ? skippedOld : undefined,
        truncatedWithoutCopy: run.unreadTruncations.length > 0 ? run.unreadTruncations : undefined,
        patterns: Object.fromEntries(
          patterns.map((p) => [
            p.plan.name,
            {
              regex: p.plan.pattern,
              critical: p.critical,
              threshold: p.threshold,
              literal: p.plan.literal !== undefined,
            },
          ]),
        ),
        stateFile: statePath,
      },
    };
  },
});
