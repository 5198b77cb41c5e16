import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { readSidecar } from '../../src/backup/manifest.js';
import { restoreArchive } from '../../src/backup/restore-archive.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

const DRIVER_MODULE = new URL('../../dist/store/sqlite/driver.js', import.meta.url).href;

/**
 * A separate process that commits one row per transaction as fast as it can, until killed, on
 * the same SQLite driver as this Node's caretaker.
 */
const WRITER = `
const { openSqlite } = await import(${JSON.stringify(DRIVER_MODULE)});
const db = openSqlite(process.argv[2]);
db.pragma('journal_mode = WAL');
// As applications do (better-sqlite3's build default): node:sqlite would fsync every commit.
db.pragma('synchronous = NORMAL');
const insert = db.prepare('INSERT INTO t (payload) VALUES (?)');
const payload = 'x'.repeat(2000);
for (;;) insert.run(payload);
`;

function count(path: string): number {
  const db = openSqlite(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('backup of a live SQLite database', () => {
  it('copies a database being written into a consistent one with every committed row', async () => {
    const dir = tempDir('ct-sqlite-');
    mkdirSync(join(dir, 'data'));
    const dbPath = join(dir, 'data/app.db');
    const setup = openSqlite(dbPath);
    setup.pragma('journal_mode = WAL');
    setup.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    setup.close();
    writeFileSync(join(dir, 'writer.mjs'), WRITER);
    const writer = spawn(process.execPath, [join(dir, 'writer.mjs'), dbPath], { stdio: 'ignore' });
    try {
      await waitUntil(() => count(dbPath) >= 3000, 'the writer to commit rows');
      const ct = caretakerWith(
        dir,
        `  db:\n    action: backup\n    with: { paths: [data], sqlite: [data/app.db], dest: backups }\n` +
          `  drill:\n    action: verify-backups\n    with: { dest: backups, latest: 1, drill: true, drill_dir: drills }\n`,
      );
      try {
        const before = count(dbPath);
        const run = await runTask(ct, 'db');
        expect(run.status, run.reason ?? '').toBe('success');
        expect(count(dbPath)).toBeGreaterThan(before); // the writer really was writing during the backup
        const archive = run.result!.details!.archive as string;
        // The database is archived once, from the online backup; its -wal and -shm never.
        const paths = readSidecar(archive)!.entries.map((e) => e.path);
        expect(paths.filter((p) => p.includes('app.db'))).toEqual([dbPath.slice(1)]);
        expect(readSidecar(archive)!.entries.find((e) => e.path === dbPath.slice(1))?.kind).toBe('sqlite');

        const to = join(dir, 'restored');
        await restoreArchive(archive, { to, force: false });
        const restored = openSqlite(join(to, dbPath.slice(1)), { readonly: true });
        try {
          expect(restored.pragmaValue('integrity_check')).toBe('ok');
          const { n, max } = restored.prepare('SELECT count(*) AS n, max(id) AS max FROM t').get() as {
            n: number;
            max: number;
          };
          expect(n).toBeGreaterThanOrEqual(before); // every row committed before the backup began
          expect(max).toBe(n); // and no gap: a consistent snapshot, not a torn copy
        } finally {
          restored.close();
        }

        const drill = await runTask(ct, 'drill');
        expect(drill.status, drill.result?.summary).toBe('success');
        expect((drill.result!.details!.drill as { checks: string[] }).checks).toContain(
          `SQLite ${dbPath.slice(1)}: integrity_check ok`,
        );
      } finally {
        await ct.close();
      }
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
