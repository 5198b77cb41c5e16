/**
 * A restore drill: restore an archive into a fresh temp dir, prove what came back is usable —
 * every SQLite copy passes `PRAGMA integrity_check`, every PostgreSQL dump is listed by
 * `pg_restore --list`, then the operator's own check command runs there — and remove the dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../store/sqlite/driver.js';
import { pgListDump, type ToolRunner } from './postgres.js';
import { restoreArchive } from './restore-archive.js';

export interface DrillOptions {
  /** Parent of the temp dir (default: the system temp dir). */
  readonly parentDir: string;
  /** Run in the restored tree; a non-zero exit fails the drill. */
  readonly check?: (dir: string) => Promise<string | undefined>;
  readonly runTool: ToolRunner;
  readonly signal?: AbortSignal;
}

export interface DrillResult {
  readonly ok: boolean;
  readonly archive: string;
  readonly files: number;
  readonly bytes: number;
  readonly checks: readonly string[];
  readonly failure?: string;
}

export async function drill(archive: string, o: DrillOptions): Promise<DrillResult> {
  const dir = mkdtempSync(join(o.parentDir, 'caretaker-drill-'));
  const checks: string[] = [];
  try {
    const r = await restoreArchive(archive, {
      to: dir,
      force: false,
      skipExternalLinks: true,
      signal: o.signal,
    });
    const base = { archive, files: r.files, bytes: r.bytes };
    for (const e of r.restored) {
      if (e.kind === 'sqlite') {
        let verdict: string;
        try {
          const db = openSqlite(e.dest, { readonly: true });
          try {
            verdict = String(db.pragmaValue('integrity_check'));
          } finally {
            db.close();
          }
        } catch (err) {
          verdict = (err as Error).message;
        }
        if (verdict !== 'ok')
          return { ...base, ok: false, checks, failure: `SQLite ${e.path}: integrity_check says ${verdict}` };
        checks.push(`SQLite ${e.path}: integrity_check ok`);
      } else if (e.kind === 'postgres') {
        try {
          const items = await pgListDump(e.dest, o.runTool);
          checks.push(`PostgreSQL dump ${e.path}: ${items} items readable`);
        } catch (err) {
          return { ...base, ok: false, checks, failure: (err as Error).message };
        }
      }
    }
    if (o.check) {
      const failed = await o.check(dir);
      if (failed) return { ...base, ok: false, checks, failure: failed };
      checks.push('drill_command passed');
    }
    return { ...base, ok: true, checks };
  } catch (err) {
    return {
      ok: false,
      archive,
      files: 0,
      bytes: 0,
      checks,
      failure: `restore failed: ${(err as Error).message}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
