/**
 * verify-backups on a copy with `subset` (a slice of the copy's archives each run) and
 * `copy.drill` (the newest archive of the copy restored into a temp dir and checked): real
 * backup runs, a real S3 HTTP server and the real `age` CLI for the keys.
 *
 * No real S3 server can run on this machine: the server is `s3rver` on a loopback port, in this
 * process (see test/support/s3rver.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { ManualClock } from '../../src/engine/clock.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { sshdMissing, startSshd, type LoopbackSshd } from '../support/sshd.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

const ageMissing =
  spawnSync('age-keygen', ['--help']).status !== null
    ? undefined
    : skipBecause('encrypted copy drills', 'the age CLI is not installed (apt-get install age)', {
        requiredUnderCi: true,
      });

let servers: LoopbackS3[] = [];
beforeAll(() => Object.assign(process.env, S3_ENV));
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
});

async function server(dir: string): Promise<LoopbackS3> {
  const s = await startS3(join(dir, 's3'), ['bkt'], 0);
  servers.push(s);
  return s;
}

function copyYaml(s: LoopbackS3, to: string, extra = ''): string {
  return `{ to: '${to}', endpoint: '${s.endpoint}', region: us-east-1, path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET${extra} }`;
}

function target(s: LoopbackS3, to: string): S3Target {
  return new S3Target({
    to,
    endpoint: s.endpoint,
    path_style: true,
    access_key_env: 'TEST_S3_KEY',
    secret_key_env: 'TEST_S3_SECRET',
  });
}

function makeData(dir: string): void {
  mkdirSync(join(dir, 'data/sub'), { recursive: true });
  writeFileSync(join(dir, 'data/hello.txt'), 'hello\n');
  writeFileSync(join(dir, 'data/sub/notes.md'), '# notes\n'.repeat(100));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface CopyDetails {
  archives: string[];
  subset: string | null;
  drill: { ok: boolean; files: number; failure?: string } | null;
}

describe('verify-backups with subset on a copy', () => {
  it('three runs with subset 1/3 check every archive of the copy exactly once, then start over', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 2));
    const copy = copyYaml(s, 's3://bkt/hist');
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      verify: false\n      copies:\n        - ${copy}\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      task: bk\n      subset: 1/3\n      copy: ${copy}\n`,
      clock,
    );
    try {
      for (let i = 0; i < 8; i++) {
        expect((await runTask(ct, 'bk')).status).toBe('success');
        clock.advanceTo(clock.now() + 86_400_000);
      }
      const t = target(s, 's3://bkt/hist');
      const remote = (await listRemote(t, 'bk')).map((a) => a.name);
      t.close();
      expect(remote).toHaveLength(8);
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await runTask(ct, 'vb');
        expect(run.status, run.result?.summary).toBe('success');
        const c = run.result!.details!.copy as CopyDetails;
        expect(c.subset).toBe(`slice ${i + 1}/3`);
        // The local archives and the copy's are sliced by the same counter: the same names.
        const local = (run.result!.details!.archives as { name: string }[]).map((a) => a.name);
        expect([...c.archives].sort()).toEqual([...local].sort());
        if (c.archives.length > 0)
          expect(run.result?.summary).toContain(
            `copy s3://bkt/hist: verified ${c.archives.length} archive${c.archives.length > 1 ? 's' : ''} (slice ${i + 1}/3)`,
          );
        else expect(run.result?.summary).toContain(`copy s3://bkt/hist: slice ${i + 1}/3 holds no archive`);
        seen.push(...c.archives);
      }
      expect(seen.length).toBe(8); // each archive of the copy exactly once in three runs
      expect(new Set(seen)).toEqual(new Set(remote));
      const again = await runTask(ct, 'vb');
      expect((again.result!.details!.copy as CopyDetails).subset).toBe('slice 1/3');
    } finally {
      await ct.close();
    }
  }, 90_000);
});

describe('verify-backups with copy.drill', () => {
  it('restores the newest archive of the copy into a temp dir and checks it; a corrupted copy fails the drill', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const copy = copyYaml(s, 's3://bkt/web', ', drill: true');
    const check = `test "$(cat "$CARETAKER_RESTORE_DIR${dir}/data/hello.txt")" = hello`;
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copyYaml(s, 's3://bkt/web')}\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      task: bk\n      drill_dir: drills\n      drill_command: '${check}'\n      copy: ${copy}\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
      const good = await runTask(ct, 'vb');
      expect(good.status, good.result?.summary).toBe('success');
      const t = target(s, 's3://bkt/web');
      const [a] = await listRemote(t, 'bk');
      expect(good.result?.summary).toContain(
        `copy s3://bkt/web: verified 1 archive; restore drill of the copy's ${a!.name} passed (2 files)`,
      );
      const d = (good.result!.details!.copy as CopyDetails).drill!;
      expect(d.ok).toBe(true);
      expect(readdirSync(join(dir, 'drills'))).toEqual([]); // download and restore both removed

      // A consistent copy of other bytes: the archive and its manifest agree, every checksum of
      // the object matches, but hello.txt inside no longer matches the entry the manifest lists.
      const tar = gunzipSync(await t.getText(a!.object));
      const at = tar.indexOf('hello\n');
      expect(at).toBeGreaterThan(0);
      tar.write('jello\n', at);
      const forged = gzipSync(tar);
      const manifest = JSON.parse((await t.getText(`${a!.name}.manifest.json`)).toString()) as {
        archive: { size: number; sha256: string };
      };
      manifest.archive.size = forged.length;
      manifest.archive.sha256 = sha256(forged);
      await t.put(a!.object, forged);
      await t.put(`${a!.name}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
      const forgedRun = await runTask(ct, 'vb');
      expect(forgedRun.status).toBe('failed');
      expect(forgedRun.result?.summary).toContain(`copy s3://bkt/web: 1 of 1 FAILED: ${a!.name}`);
      expect(forgedRun.result?.summary).toContain(
        `restore drill of the copy FAILED: ${a!.name}: ${(forgedRun.result!.details!.copy as CopyDetails).drill!.failure!.split(': ').slice(1).join(': ')}`,
      );
      expect((forgedRun.result!.details!.copy as CopyDetails).drill!.failure).toMatch(/hello\.txt/);

      // One flipped byte in the stored object: caught before anything is restored.
      const bytes = await t.getText(a!.object);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 40) ^ 0xff, bytes.length - 40);
      await t.put(a!.object, bytes);
      t.close();
      const flipped = await runTask(ct, 'vb');
      expect(flipped.status).toBe('failed');
      expect(flipped.result?.summary).toContain(
        `restore drill of the copy FAILED: ${a!.name}: the stored object does not match its SHA-256`,
      );
      expect(readdirSync(join(dir, 'drills'))).toEqual([]);

      // A sound archive, but not the one this host wrote under that name (an older one put in
      // its place): every checksum matches, only the comparison with the local archive sees it.
      writeFileSync(join(dir, 'data/hello.txt'), 'hello again\n');
      expect((await runTask(ct, 'bk')).status).toBe('success');
      const t2 = target(s, 's3://bkt/web');
      const [b] = await listRemote(t2, 'bk');
      expect(b!.name).not.toBe(a!.name);
      await t2.put(b!.object, readFileSync(join(dir, 'backups', a!.name)));
      await t2.put(
        `${b!.name}.manifest.json`,
        readFileSync(join(dir, 'backups', `${a!.name}.manifest.json`)),
      );
      t2.close();
      const stale = await runTask(ct, 'vb');
      expect(stale.status).toBe('failed');
      expect(stale.result?.summary).toContain('copy s3://bkt/web: verified 1 archive;');
      expect(stale.result?.summary).toContain(
        `restore drill of the copy FAILED: ${b!.name} in the copy differs from the local archive of that name (SHA-256 or size)`,
      );
    } finally {
      await ct.close();
    }
  }, 90_000);

  it('drills the newest copy even when this run’s slice does not hold it, without counting it as checked', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 2));
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      verify: false\n      copies:\n        - ${copyYaml(s, 's3://bkt/sl')}\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      subset: 1/3\n      copy: ${copyYaml(s, 's3://bkt/sl', ', drill: true')}\n`,
      clock,
    );
    try {
      for (let i = 0; i < 6; i++) {
        expect((await runTask(ct, 'bk')).status).toBe('success');
        clock.advanceTo(clock.now() + 86_400_000);
      }
      const t = target(s, 's3://bkt/sl');
      const newest = (await listRemote(t, 'bk'))[0]!.name;
      t.close();
      let drilledOutside = 0;
      for (let i = 0; i < 3; i++) {
        const run = await runTask(ct, 'vb');
        expect(run.status, run.result?.summary).toBe('success');
        const c = run.result!.details!.copy as CopyDetails;
        expect(c.drill?.ok).toBe(true);
        if (!c.archives.includes(newest)) drilledOutside++;
      }
      expect(drilledOutside).toBe(2); // the newest is in one slice of three, drilled in all three
    } finally {
      await ct.close();
    }
  }, 90_000);
});

describe.skipIf(ageMissing)('verify-backups drill of an encrypted copy', () => {
  function keygen(dir: string, name: string): string {
    execFileSync('age-keygen', ['-o', join(dir, name)], { stdio: 'ignore' });
    return execFileSync('age-keygen', ['-y', join(dir, name)], { encoding: 'utf8' }).trim();
  }

  it('decrypts with copy.identity_file and passes; without a key it fails in one line', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const pub = keygen(dir, 'key.txt');
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copyYaml(s, 's3://bkt/enc')}\n      encrypt: { recipients: ['${pub}'] }\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      drill_dir: drills\n      copy: ${copyYaml(s, 's3://bkt/enc', ', drill: true, identity_file: key.txt')}\n` +
        `  vb-nokey:\n    action: verify-backups\n    with:\n      dest: backups\n      copy: ${copyYaml(s, 's3://bkt/enc', ', drill: true')}\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
      const ok = await runTask(ct, 'vb');
      expect(ok.status, ok.result?.summary).toBe('success');
      expect(ok.result?.summary).toMatch(/restore drill of the copy's bk-\S+\.tar\.gz passed \(2 files\)/);
      expect(readdirSync(join(dir, 'drills'))).toEqual([]);
      const nokey = await runTask(ct, 'vb-nokey');
      expect(nokey.status).toBe('failed');
      expect(nokey.result?.summary).toMatch(
        /restore drill of the copy FAILED: bk-\S+\.tar\.gz is encrypted: a drill of the copy needs copy\.identity_file or copy\.identity_env$/,
      );
    } finally {
      await ct.close();
    }
  }, 90_000);
});

const noSshd = (() => {
  const why = sshdMissing();
  return why ? skipBecause('SFTP copy drills', why, { requiredUnderCi: true }) : undefined;
})();

describe.skipIf(noSshd)('verify-backups on an SFTP copy (a real sshd on loopback)', () => {
  let sshds: LoopbackSshd[] = [];
  afterEach(async () => {
    for (const s of sshds) await s.kill();
    sshds = [];
  });

  it('slices the copy over three runs and drills its newest archive; a truncated archive on the server fails the drill', async () => {
    const dir = tempDir();
    const s = await startSshd(join(dir, 'sshd'));
    sshds.push(s);
    makeData(dir);
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const copy = `{ to: '${s.url(remote)}', key_file: '${s.userKey}', known_hosts: '${s.knownHostsFile}' }`;
    const drillCopy = copy.replace(/ }$/, ', drill: true }');
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 2));
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      verify: false\n      copies:\n        - ${copy}\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      subset: 1/3\n      drill_dir: drills\n      copy: ${drillCopy}\n`,
      clock,
    );
    try {
      for (let i = 0; i < 5; i++) {
        expect((await runTask(ct, 'bk')).status).toBe('success');
        clock.advanceTo(clock.now() + 86_400_000);
      }
      const archives = readdirSync(remote).filter((f) => f.endsWith('.tar.gz'));
      expect(archives).toHaveLength(5);
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await runTask(ct, 'vb');
        expect(run.status, run.result?.summary).toBe('success');
        const c = run.result!.details!.copy as CopyDetails;
        expect(c.drill?.ok).toBe(true);
        seen.push(...c.archives);
      }
      expect(seen.sort()).toEqual(archives.sort()); // every archive of the copy exactly once
      expect(readdirSync(join(dir, 'drills'))).toEqual([]);
      const newest = archives.sort().at(-1)!;
      const bytes = readFileSync(join(remote, newest));
      writeFileSync(join(remote, newest), bytes.subarray(0, bytes.length - 30)); // cut short on the server
      const bad = await runTask(ct, 'vb');
      expect(bad.status).toBe('failed');
      expect(bad.result?.summary).toMatch(
        new RegExp(
          `restore drill of the copy FAILED: ${newest.replace(/\./g, '\\.')}: the stored object is .* its index says ${bytes.length} bytes`,
        ),
      );
    } finally {
      await ct.close();
    }
  }, 120_000);
});
