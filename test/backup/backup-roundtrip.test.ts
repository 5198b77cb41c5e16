import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { restoreArchive } from '../../src/backup/restore-archive.js';
import { readSidecar } from '../../src/backup/manifest.js';
import { readVerifyState } from '../../src/backup/verify-state.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask, snapshotTree } from './backup-harness.js';

/** Nested dirs, an empty dir, symlinks (inside, dangling, absolute), unicode and long names, modes. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'a/b/c'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'private'), { mode: 0o700 });
  writeFileSync(join(root, 'a/b/c/deep.txt'), 'deep\n');
  writeFileSync(join(root, 'a/ünïcødé – 日本語.txt'), 'unicode name\n');
  const long = `${'long-name-'.repeat(24)}end.txt`; // 247 bytes: needs a pax header
  writeFileSync(join(root, 'a/b', long), 'long\n');
  writeFileSync(join(root, 'private/secret.key'), 'k3y', { mode: 0o600 });
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7)); // spans several blocks
  writeFileSync(join(root, 'skip.tmp'), 'excluded');
  mkdirSync(join(root, 'node_modules/x'), { recursive: true });
  writeFileSync(join(root, 'node_modules/x/index.js'), 'excluded');
  symlinkSync('a/b/c/deep.txt', join(root, 'link-inside'));
  symlinkSync('does-not-exist', join(root, 'link-dangling'));
  symlinkSync('/etc/hostname', join(root, 'link-absolute'));
  chmodSync(join(root, 'private'), 0o700);
  utimesSync(join(root, 'a/b/c/deep.txt'), 1_700_000_000, 1_700_000_000);
  utimesSync(join(root, 'empty'), 1_600_000_000, 1_600_000_000);
}

describe('backup of a real tree', () => {
  it('archives everything but the excludes, verifies it, and restores it identically', async () => {
    const dir = tempDir('ct-backup-');
    const data = join(dir, 'data');
    mkdirSync(data);
    makeTree(data);
    const ct = caretakerWith(
      dir,
      `  nightly:\n    action: backup\n    with:\n      paths: [data]\n      exclude: ['*.tmp', node_modules]\n      dest: backups\n`,
    );
    try {
      const run = await runTask(ct, 'nightly');
      expect(run.status, run.reason ?? '').toBe('success');
      const d = run.result!.details!;
      const archive = d.archive as string;
      expect(archive).toMatch(/backups\/nightly-\d{8}T\d{6}Z\.tar\.gz$/);
      expect(d.verified).toBe(true);
      expect(d.files).toBe(6);
      expect(d.symlinks).toBe(3);
      expect(d.bytesOut as number).toBeLessThan(d.bytesIn as number);
      expect(readdirSync(join(dir, 'backups')).sort()).toEqual(
        [archive, `${archive}.manifest.json`, `${archive}.verify.json`].map((p) => p.split('/').pop()).sort(),
      );
      expect(readVerifyState(archive)?.ok).toBe(true);

      // The sidecar lists every entry with a checksum and the archive's own SHA-256.
      const sidecar = readSidecar(archive)!;
      expect(sidecar.task).toBe('nightly');
      expect(sidecar.host).toBe('test-host');
      const deep = sidecar.entries.find((e) => e.path.endsWith('a/b/c/deep.txt'))!;
      expect(deep.sha256).toBe(createHash('sha256').update('deep\n').digest('hex'));
      expect(deep.mtime).toBe(1_700_000_000_000);
      expect(sidecar.entries.some((e) => e.path.includes('node_modules') || e.path.endsWith('.tmp'))).toBe(
        false,
      );

      // GNU tar and gzip read it as an ordinary tar.gz.
      execFileSync('gzip', ['-t', archive]);
      const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' });
      expect(listing).toContain('ünïcødé – 日本語.txt');
      expect(listing).toContain('long-name-long-name-');
      expect(listing.trim().split('\n').pop()).toBe('MANIFEST.json');

      // A link is data: the absolute one comes back as the same link, never followed.
      const to = join(dir, 'restored');
      const r = await restoreArchive(archive, { to, force: false });
      expect(r.proof).toBe('sidecar');
      expect(r.skipped).toEqual([]);
      expect(r.externalLinks).toEqual([{ path: `${data.slice(1)}/link-absolute`, target: '/etc/hostname' }]);
      expect(readlinkSync(join(to, data.slice(1), 'link-absolute'))).toBe('/etc/hostname');
      const original = snapshotTree(data);
      for (const p of ['skip.tmp', 'node_modules', 'node_modules/x', 'node_modules/x/index.js'])
        original.delete(p);
      expect(snapshotTree(join(to, data.slice(1)))).toEqual(original);
      // --skip-external-links still leaves such links out when asked.
      const to2 = join(dir, 'restored-without-links');
      const r2 = await restoreArchive(archive, { to: to2, force: false, skipExternalLinks: true });
      expect(r2.skipped.map((s) => s.path)).toEqual([`${data.slice(1)}/link-absolute`]);
      expect(existsSync(join(to2, data.slice(1), 'link-absolute'))).toBe(false);
    } finally {
      await ct.close();
    }
  });

  it('reports in a dry run what it would archive and writes nothing', async () => {
    const dir = tempDir('ct-backup-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/a.txt'), 'aaaa');
    const ct = caretakerWith(
      dir,
      `  nightly:\n    action: backup\n    with: { paths: [data], dest: backups }\n`,
    );
    try {
      const run = await runTask(ct, 'nightly', true);
      expect(run.status).toBe('success');
      expect(run.result?.summary).toMatch(
        /^would back up 1 file \(4B\) to .*backups\/nightly-\d{8}T\d{6}Z\.tar\.gz$/,
      );
      expect(run.result?.plan?.[0]).toContain(join(dir, 'data'));
      expect(existsSync(join(dir, 'backups'))).toBe(false);
    } finally {
      await ct.close();
    }
  });

  it('applies keep: last after each backup and never removes archives of other tasks', async () => {
    const dir = tempDir('ct-backup-');
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'backups'));
    writeFileSync(join(dir, 'data/a.txt'), 'a');
    // An older archive of another task whose name starts the same way must survive.
    writeFileSync(join(dir, 'backups/nightly-db-20200101T000000Z.tar.gz'), 'other task');
    const clock = new ManualClock(Date.UTC(2026, 10, 24, 2, 0, 0));
    const ct = caretakerWith(
      dir,
      `  nightly:\n    action: backup\n    with: { paths: [data], dest: backups, keep: { last: 2 } }\n`,
      clock,
    );
    try {
      const names: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await runTask(ct, 'nightly');
        expect(run.status).toBe('success');
        names.push((run.result!.details!.archive as string).split('/').pop()!);
        clock.advanceTo(clock.now() + 86_400_000);
      }
      expect(names).toEqual([
        'nightly-20261124T020000Z.tar.gz',
        'nightly-20261125T020000Z.tar.gz',
        'nightly-20261126T020000Z.tar.gz',
      ]);
      const left = readdirSync(join(dir, 'backups')).filter((n) => n.endsWith('.tar.gz'));
      expect(left.sort()).toEqual(['nightly-db-20200101T000000Z.tar.gz', names[1], names[2]].sort());
      expect(existsSync(join(dir, 'backups', `${names[0]}.manifest.json`))).toBe(false);
      expect(readFileSync(join(dir, 'backups/nightly-db-20200101T000000Z.tar.gz'), 'utf8')).toBe(
        'other task',
      );
    } finally {
      await ct.close();
    }
  });

  it('stops on a timeout without leaving a partial archive behind', async () => {
    const dir = tempDir('ct-backup-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/random.bin'), randomBytes(48 * 1024 * 1024)); // seconds of gzip, never 50ms
    const ct = caretakerWith(
      dir,
      `  slow:\n    action: backup\n    timeout: 50ms\n    with: { paths: [data], dest: data/backups }\n`,
    );
    try {
      const run = await runTask(ct, 'slow');
      expect(run.status).toBe('timeout');
      expect(readdirSync(join(dir, 'data/backups'))).toEqual([]);
    } finally {
      await ct.close();
    }
  });

  it('never archives its own destination or the state dir when they lie inside a backed-up path', async () => {
    const dir = tempDir('ct-backup-');
    writeFileSync(join(dir, 'a.txt'), 'a');
    const clock = new ManualClock(Date.UTC(2026, 10, 24, 2, 0, 0));
    const ct = caretakerWith(
      dir,
      `  self:\n    action: backup\n    with: { paths: ['.'], dest: backups }\n`,
      clock,
    );
    try {
      expect((await runTask(ct, 'self')).status).toBe('success');
      clock.advanceTo(clock.now() + 60_000);
      const second = await runTask(ct, 'self');
      expect(second.status).toBe('success');
      const paths = readSidecar(second.result!.details!.archive as string)!.entries.map((e) => e.path);
      expect(paths.some((p) => p.includes('/backups') || p.includes('/.caretaker'))).toBe(false);
      expect(paths).toContain(join(dir, 'a.txt').slice(1));
    } finally {
      await ct.close();
    }
  });

  it('refuses / as a path and the state dir as dest when the config is loaded', () => {
    const dir = tempDir('ct-backup-');
    expect(() =>
      caretakerWith(
        dir,
        `  root:\n    action: backup\n    with: { paths: ['/'], dest: backups }\n` +
          `  state:\n    action: backup\n    with: { paths: [data], dest: .caretaker/backups }\n`,
      ),
    ).toThrow(
      /tasks\.root\.with\.paths\.0: refusing to back up \/ as a whole[^]*tasks\.state\.with\.dest: .*caretaker's own state dir/,
    );
  });

  it('fails clearly when a path does not exist or matches nothing', async () => {
    const dir = tempDir('ct-backup-');
    const ct = caretakerWith(
      dir,
      `  missing:\n    action: backup\n    with: { paths: [nope], dest: backups }\n` +
        `  empty:\n    action: backup\n    with: { paths: ['logs/*.log'], dest: backups }\n` +
        `  link:\n    action: backup\n    with: { paths: [current, 'logs/*.log'], dest: backups }\n`,
    );
    mkdirSync(join(dir, 'releases/42'), { recursive: true });
    symlinkSync('releases/42', join(dir, 'current'));
    try {
      expect((await runTask(ct, 'missing')).reason).toBe(`paths: ${join(dir, 'nope')}: does not exist`);
      expect(existsSync(join(dir, 'backups'))).toBe(false); // a failed backup writes nothing
      const empty = await runTask(ct, 'empty');
      expect(empty.status).toBe('failed');
      expect(empty.reason).toBe('nothing to back up: the paths match no files');
      // A link given as a path is archived as a link; the run says so and ends as a warning.
      const link = await runTask(ct, 'link');
      expect(link.status).toBe('warning');
      expect(link.result?.warnings).toEqual([
        'paths: logs/*.log matches nothing',
        `${join(dir, 'current')}: is a symlink: archived as a link, its target is not backed up (list the target)`,
      ]);
    } finally {
      await ct.close();
    }
  });
});
