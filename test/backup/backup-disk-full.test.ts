/**
 * A destination that fills up. On a machine where the test may mount a 5 MiB tmpfs (root, as in
 * CI) it uses a real one; elsewhere it injects ENOSPC into the archive writer through its fault
 * hook (the only substitute for a full disk that an unprivileged process can have).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { BackupError, writeArchive } from '../../src/backup/write-archive.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

function tryMountTmpfs(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0;
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

describe('backup to a destination that fills up', () => {
  it('refuses to start when the estimate does not fit, and removes the partial archive when the disk fills mid-way', async (ctx) => {
    const dir = tempDir('ct-full-');
    const dest = join(dir, 'dest');
    mkdirSync(join(dir, 'data'));
    const db = openSqlite(join(dir, 'data/app.db'));
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    db.close();
    if (!tryMountTmpfs(dest)) {
      console.log(
        'skipped: cannot mount a tmpfs here (not root?); the fault-injection test below covers a full disk',
      );
      ctx.skip();
    }
    try {
      // 1. Incompressible input larger than the free space: refused before anything is written.
      writeFileSync(join(dir, 'data/blob.bin'), randomBytes(8 * 1024 * 1024));
      const ct = caretakerWith(
        dir,
        `  b:\n    action: backup\n    with: { paths: [data], sqlite: [data/app.db], dest: dest }\n`,
      );
      try {
        const refused = await runTask(ct, 'b');
        expect(refused.status).toBe('failed');
        expect(refused.result?.summary).toMatch(
          /^not enough free space in .*dest to start: the backup needs about 9\.\dMB \(input 8\.0MB\), 5\.0MB is free$/,
        );
        expect(readdirSync(dest)).toEqual([]);

        // 2. A backup of compressible data teaches caretaker a tiny ratio ...
        writeFileSync(join(dir, 'data/blob.bin'), Buffer.alloc(1024 * 1024));
        const first = await runTask(ct, 'b');
        expect(first.status, first.reason ?? '').toBe('success');
        const kept = readdirSync(dest).sort();
        expect(kept).toHaveLength(3); // archive, sidecar, verify state

        // ... so the next one (now incompressible) passes the estimate and hits ENOSPC mid-way.
        writeFileSync(join(dir, 'data/blob.bin'), randomBytes(8 * 1024 * 1024));
        const full = await runTask(ct, 'b');
        expect(full.status).toBe('failed');
        expect(full.result?.summary).toMatch(
          /dest filled up while writing b-\d{8}T\d{6}Z(-\d+)?\.tar\.gz; the partial archive was removed$/,
        );
        expect(readdirSync(dest).sort()).toEqual(kept); // no .tmp, no .staging, no new sidecar
      } finally {
        await ct.close();
      }
    } finally {
      unmount(dest);
    }
  });

  it('cleans up the same way when a write fails through the fault hook', async () => {
    const dir = tempDir('ct-full-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/blob.bin'), randomBytes(2 * 1024 * 1024));
    const dest = join(dir, 'dest');
    const failed = writeArchive({
      task: 'b',
      host: 'h',
      version: 'test',
      dest,
      time: Date.UTC(2026, 0, 1),
      roots: [join(dir, 'data')],
      isExcluded: () => false,
      protectedDirs: [],
      sqlite: [],
      postgres: [],
      compression: 6,
      parallel: 2,
      verify: true,
      signal: new AbortController().signal,
      runTool: () => Promise.reject(new Error('no tools needed')),
      faults: { failAfterBytes: 256 * 1024 },
    });
    await expect(failed).rejects.toThrow(BackupError);
    await expect(failed).rejects.toThrow(
      /filled up while writing b-20260101T000000Z\.tar\.gz; the partial archive was removed/,
    );
    expect(readdirSync(dest)).toEqual([]);
  });
});
