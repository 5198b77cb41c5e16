/**
 * Reports kept on disk: each health run leaves state_dir/reports/health-<timestamp>.md (and the
 * oldest beyond `keep` are deleted). Written atomically: a reader never sees half a report.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../os/atomic-write.js';
import type { RunRecord } from '../store/types.js';
import { healthReportOf, renderHealthMarkdown } from './health-report.js';

export const reportsDir = (stateDir: string) => join(stateDir, 'reports');

/** A report a person asked for (`--output FILE`), written atomically. */
export function writeReportFile(file: string, text: string): void {
  writeFileAtomicSync(file, text);
}

/** 2026-11-24T06:17:07.123Z → 20261124T061707Z (sorts by time, safe in any file system). */
export function fileStamp(t: number): string {
  return new Date(t)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function saveHealthReport(stateDir: string, run: RunRecord, host: string, keep: number): string {
  const dir = reportsDir(stateDir);
  const at = run.finishedAt ?? run.startedAt ?? run.queuedAt;
  let file = join(dir, `health-${fileStamp(at)}.md`);
  // Two health tasks finishing within the same second each keep their report.
  if (existsSync(file)) file = join(dir, `health-${fileStamp(at)}-run${run.id}.md`);
  writeFileAtomicSync(file, renderHealthMarkdown(healthReportOf([run], host, at)));
  pruneReports(dir, 'health-', keep);
  return file;
}

export function pruneReports(dir: string, prefix: string, keep: number): number {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.md'));
  } catch {
    return 0;
  }
  files.sort();
  const drop = files.slice(0, Math.max(0, files.length - keep));
  for (const f of drop) rmSync(join(dir, f), { force: true });
  return drop.length;
}
