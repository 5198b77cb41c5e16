/**
 * Backups with copies and no local `dest`: the archive streams to every copy at once while it is
 * written. Real servers, as in offsite-s3 / offsite-sftp: an OpenSSH sshd on loopback
 * (test/support/sshd.ts) and s3rver in this process (no real S3 server can run here); the CLI for
 * list and restore; the real `age` CLI for the encrypted copy.
 *
 * "No temp copy": the config dir, the state dir and TMPDIR of the run are on a tmpfs smaller
 * than the archive (the data and both servers' storage are elsewhere), so an archive-sized temp
 * file written anywhere caretaker writes would fail the run with ENOSPC.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { archivePathOf } from '../../src/backup/tree-walk.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { skipBecause } from '../support/skip-reason.js';
import { sshdMissing, startSshd, type LoopbackSshd } from '../support/sshd.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { caretakerWith, runTask, snapshotTree } from './backup-harness.js';
import { openSqlite } from '../../src/store/sqlite/driver.js';

const noSshd = (() => {
  const why = sshdMissing();
  return why ? skipBecause('no-dest copy tests', why, { requiredUnderCi: true }) : undefined;
})();
const ageMissing =
  spawnSync('age', ['--version']).status === 0
    ? undefined
    : skipBecause('the encrypted no-dest round trip', 'the age CLI is not installed (apt-get install age)', {
        requiredUnderCi: true,
      });

let sshds: LoopbackSshd[] = [];
let s3s: LoopbackS3[] = [];
let mounts: string[] = [];
const savedTmp = process.env.TMPDIR;
beforeAll(() => Object.assign(process.env, S3_ENV));
afterEach(async () => {
  process.env.TMPDIR = savedTmp;
  if (savedTmp === undefined) delete process.env.TMPDIR;
  for (const s of sshds) await s.kill();
  for (const s of s3s) await s.kill();
  for (const m of mounts) spawnSync('umount', [m]);
  sshds = [];
  s3s = [];
  mounts = [];
});

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Setup {
  readonly dir: string;
  /** Config, state dir and TMPDIR: a tmpfs of `homeMiB`. */
  readonly home: string;
  readonly data: string;
  readonly remote: string;
  readonly sshd: LoopbackSshd;
  readonly s3: LoopbackS3;
}

async function setup(ctx: TestContext, dataMiB: number, homeMiB = 8): Promise<Setup> {
  const dir = tempDir();
  const home = join(dir, 'home');
  mkdirSync(home);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${homeMiB}m`, 'tmpfs', home], {
    encoding: 'utf8',
  });
  if (m.status !== 0)
    ctx.skip(skipBecause('the no-dest copy tests', `cannot mount a tmpfs: ${m.stderr.trim()}`));
  mounts.push(home);
  mkdirSync(join(home, 'tmp'));
  process.env.TMPDIR = join(home, 'tmp');
  const data = join(dir, 'data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  writeFileSync(join(data, 'hello.txt'), 'hello\n');
  writeFileSync(join(data, 'sub/notes.md'), '# notes\n'.repeat(100));
  writeFileSync(join(data, 'big.bin'), randomBytes(dataMiB * MiB)); // incompressible
  const sshd = await startSshd(join(dir, 'sshd'));
  sshds.push(sshd);
  const s3 = await startS3(join(dir, 's3'), ['bkt']);
  s3s.push(s3);
  return { dir, home, data, remote: join(dir, 'remote'), sshd, s3 };
}

function s3Copy(s: Setup, extra = ''): string {
  return `{ to: 's3://bkt/web-3', endpoint: '${s.s3.endpoint}', path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET, part_size_mb: 5${extra} }`;
}

function sftpCopy(s: Setup, extra = ''): string {
  return `{ to: '${s.sshd.url(s.remote)}', key_file: '${s.sshd.userKey}', known_hosts: '${s.sshd.knownHostsFile}'${extra} }`;
}

function yaml(s: Setup, copies: string[], extra = ''): string {
  return (
    `  bk:\n    action: backup\n    with:\n      paths: ['${s.data}']\n      compression: 1\n` +
    `      copies:\n${copies.map((c) => `        - ${c}\n`).join('')}${extra}`
  );
}

function s3Target(s: Setup): S3Target {
  return new S3Target({
    to: 's3://bkt/web-3',
    endpoint: s.s3.endpoint,
    path_style: true,
    access_key_env: 'TEST_S3_KEY',
    secret_key_env: 'TEST_S3_SECRET',
  });
}

function remoteFiles(remote: string): string[] {
  return existsSync(remote) ? readdirSync(remote).sort() : [];
}

/** Every file under `root` (recursively), for "no archive was written here". */
function filesUnder(root: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true }))
    if (e.isFile())
      out.push({ path: join(e.parentPath, e.name), size: statSync(join(e.parentPath, e.name)).size });
  return out;
}

/** Path → type and SHA-256 of the content (short enough to read in a failed assertion). */
function digestOf(tree: Map<string, { type: string; content?: string }>): Record<string, string> {
  return Object.fromEntries(
    [...tree].map(([p, e]) => [p, `${e.type} ${e.content ? sha256(Buffer.from(e.content, 'base64')) : ''}`]),
  );
}

describe.skipIf(noSshd)('backup with copies and no local dest (sshd and s3rver on loopback)', () => {
  it('streams one archive to an S3 and an SFTP copy at once, writes nothing its size on this host, and both restore byte for byte', async (ctx) => {
    const s = await setup(ctx, 24, 8);
    const ct = caretakerWith(
      s.home,
      yaml(s, [s3Copy(s, ', keep: { last: 1 }'), sftpCopy(s, ', keep: { last: 1 }')]),
    );
    const names: string[] = [];
    const requests: string[] = [];
    s.s3.server.on('request', (req: { method?: string; url?: string }) =>
      requests.push(`${req.method} ${req.url}`),
    );
    try {
      for (let i = 0; i < 2; i++) {
        const r = await runTask(ct, 'bk');
        expect(r.status, r.result?.summary ?? r.reason ?? '').toBe('success');
        expect(r.result?.summary).toMatch(/straight to 2 copies/);
        expect(r.result?.summary).toContain(`copied to ${s.sshd.url(s.remote)}/bk-`);
        expect(r.result?.summary).toContain('copied to s3://bkt/web-3/bk-');
        expect(r.result?.summary).toContain('read back and checked'); // verify defaults to true
        names.push(String(r.result?.details?.archive));
      }
    } finally {
      await ct.close();
    }
    // 24 MiB in parts of 5 MiB per run: a multipart upload, completed before the manifest's PUT.
    expect(requests.filter((r) => /^PUT .*partNumber=\d+/.test(r)).length).toBeGreaterThanOrEqual(10);
    const completed = requests.findIndex((r) => /^POST .*uploadId=/.test(r));
    expect(completed).toBeGreaterThan(0);
    expect(requests.findIndex((r) => /^PUT .*\.manifest\.json/.test(r))).toBeGreaterThan(completed);
    // No local archive, and nothing near the archive's size anywhere on the tmpfs.
    expect(filesUnder(s.home).filter((f) => f.size > 2 * MiB)).toEqual([]);
    expect(filesUnder(s.home).some((f) => /\.tar(\.gz)?/.test(f.path))).toBe(false);
    // Retention per copy: only the second archive is left in each.
    const name = names[1]!;
    expect(names[0]).not.toBe(name);
    expect(remoteFiles(s.remote)).toEqual([name, `${name}.manifest.json`]);
    const t = s3Target(s);
    try {
      expect((await listRemote(t, 'bk')).map((a) => a.name)).toEqual([name]);
      const fromS3 = await t.getText(name);
      const fromSftp = readFileSync(join(s.remote, name));
      expect(sha256(fromS3)).toBe(sha256(fromSftp)); // one producer, the same bytes
      const sidecar = JSON.parse(readFileSync(join(s.remote, `${name}.manifest.json`), 'utf8')) as {
        archive: { sha256: string; size: number };
      };
      expect(sidecar.archive).toMatchObject({ sha256: sha256(fromSftp), size: fromSftp.length });
      expect(fromSftp.length).toBeGreaterThan(24 * MiB); // the tmpfs (8 MiB) could not have held it
    } finally {
      t.close();
    }

    const list = await cliAsync(['backup', 'list'], { cwd: s.home });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain('no archives yet'); // there is no local dest to have any
    for (const where of ['s3://bkt/web-3', s.sshd.url(s.remote)])
      expect(
        list.stdout.split('\n').some((l) => l.startsWith(name) && l.includes(where)),
        list.stdout,
      ).toBe(true);

    const want = snapshotTree(s.data);
    for (const [i, url] of [`s3://bkt/web-3/${name}`, `${s.sshd.url(s.remote)}/${name}`].entries()) {
      const out = join(s.dir, `out-${i}`);
      const r = await cliAsync(['backup', 'restore', url, '--to', out], {
        cwd: s.home,
        env: { TMPDIR: s.dir }, // the download of a restore is a temp file: not on the small tmpfs
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('every file matched its SHA-256');
      expect(snapshotTree(join(out, archivePathOf(s.data)))).toEqual(want);
    }
  }, 120_000);

  it('an SFTP server killed mid-stream detaches that copy (one line naming it); the S3 copy completes; the run fails', async (ctx) => {
    const s = await setup(ctx, 40, 8);
    mkdirSync(s.remote);
    const ct = caretakerWith(s.home, yaml(s, [s3Copy(s), sftpCopy(s)]));
    let killed: Promise<void> | undefined;
    try {
      const started = await ct.runNow('bk', { wait: false });
      // The SFTP copy's temp file is growing: the archive is streaming.
      await waitUntil(
        () =>
          remoteFiles(s.remote).some(
            (f) => f.endsWith('.part') && statSync(join(s.remote, f)).size > 4 * MiB,
          ),
        'the SFTP upload to be under way',
        60_000,
      );
      killed = s.sshd.kill();
      const r = await ct.waitForRun(started.id);
      await killed;
      expect(r.status).toBe('failed');
      const summary = r.result?.summary ?? '';
      expect(summary.split('\n')).toHaveLength(1);
      expect(summary).toMatch(
        new RegExp(
          `^copy ${s.sshd.url(s.remote).replace(/\./g, '\\.')}: the connection to .* was (cut|closed)`,
        ),
      );
      expect(summary).toContain('1 copy of 2 failed');
      expect(summary).toContain('copied to s3://bkt/web-3/bk-');
      const t = s3Target(s);
      try {
        const [a] = await listRemote(t, 'bk');
        expect(a).toBeDefined();
        const bytes = await t.getText(a!.name);
        const sidecar = JSON.parse((await t.getText(`${a!.name}.manifest.json`)).toString()) as {
          archive: { sha256: string; size: number };
        };
        expect(sidecar.archive).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
        expect(bytes.length).toBeGreaterThan(40 * MiB);
      } finally {
        t.close();
      }
      expect(remoteFiles(s.remote).filter((f) => !f.startsWith('.'))).toEqual([]); // nothing that counts
    } finally {
      await ct.close();
    }
  }, 120_000);

  it('the only copy failing mid-stream stops the producer: every copy failed, no backup was made, nothing listed', async (ctx) => {
    const s = await setup(ctx, 40, 8);
    mkdirSync(s.remote);
    const ct = caretakerWith(s.home, yaml(s, [sftpCopy(s)]));
    try {
      const started = await ct.runNow('bk', { wait: false });
      await waitUntil(
        () =>
          remoteFiles(s.remote).some(
            (f) => f.endsWith('.part') && statSync(join(s.remote, f)).size > 4 * MiB,
          ),
        'the SFTP upload to be under way',
        60_000,
      );
      await s.sshd.kill();
      const r = await ct.waitForRun(started.id);
      expect(r.status).toBe('failed');
      expect(r.result?.summary).toMatch(
        new RegExp(
          `^copy ${s.sshd.url(s.remote).replace(/\./g, '\\.')}: .*every copy failed; no backup was made$`,
        ),
      );
      expect(remoteFiles(s.remote).filter((f) => !f.startsWith('.'))).toEqual([]);
    } finally {
      await ct.close();
    }
  }, 120_000);

  it('a run cancelled mid-stream leaves nothing that backup list shows; the next run succeeds and clears the leftovers', async (ctx) => {
    const s = await setup(ctx, 40, 8);
    mkdirSync(s.remote);
    const ct = caretakerWith(s.home, yaml(s, [s3Copy(s), sftpCopy(s)]));
    try {
      const started = await ct.runNow('bk', { wait: false });
      await waitUntil(
        () =>
          remoteFiles(s.remote).some(
            (f) => f.endsWith('.part') && statSync(join(s.remote, f)).size > 4 * MiB,
          ),
        'the SFTP upload to be under way',
        60_000,
      );
      expect(await ct.cancel(started.id, 'test: interrupt the producer')).toBe(true);
      const r = await ct.waitForRun(started.id);
      expect(r.status).toBe('cancelled');
      const list = await cliAsync(['backup', 'list', '--json'], { cwd: s.home });
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual([]);
      expect(remoteFiles(s.remote).filter((f) => !f.startsWith('.'))).toEqual([]);

      const next = await runTask(ct, 'bk');
      expect(next.status, next.result?.summary ?? '').toBe('success');
      const name = String(next.result?.details?.archive);
      expect(remoteFiles(s.remote)).toEqual([name, `${name}.manifest.json`]); // the temp file is gone
      const t = s3Target(s);
      try {
        expect((await listRemote(t, 'bk')).map((a) => a.name)).toEqual([name]);
        expect((await t.list()).map((o) => o.key).sort()).toEqual([name, `${name}.manifest.json`]);
      } finally {
        t.close();
      }
    } finally {
      await ct.close();
    }
  }, 120_000);

  it.skipIf(ageMissing)(
    'encrypted, no dest: both copies hold only ciphertext and a clear index; age -d reads it, and restore --identity restores it',
    async (ctx) => {
      const s = await setup(ctx, 12, 8);
      execFileSync('age-keygen', ['-o', join(s.dir, 'key.txt')], { stdio: 'ignore' });
      const pub = execFileSync('age-keygen', ['-y', join(s.dir, 'key.txt')], { encoding: 'utf8' }).trim();
      const ct = caretakerWith(
        s.home,
        yaml(s, [s3Copy(s), sftpCopy(s)], `      encrypt: { recipients: ['${pub}'] }\n`),
      );
      let name: string;
      try {
        const r = await runTask(ct, 'bk');
        expect(r.status, r.result?.summary ?? '').toBe('success');
        expect(r.result?.summary).toContain('(age-encrypted)');
        name = String(r.result?.details?.archive);
      } finally {
        await ct.close();
      }
      expect(filesUnder(s.home).filter((f) => f.size > 2 * MiB)).toEqual([]);
      expect(remoteFiles(s.remote)).toEqual([
        `${name}.age`,
        `${name}.age.index.json`,
        `${name}.manifest.json.age`,
      ]);
      const cipher = readFileSync(join(s.remote, `${name}.age`));
      expect(cipher.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
      const index = JSON.parse(readFileSync(join(s.remote, `${name}.age.index.json`), 'utf8')) as {
        sha256: string;
        size: number;
      };
      expect(index).toMatchObject({ sha256: sha256(cipher), size: cipher.length });
      // The standard tool reads it: age -d -i key | tar xz.
      mkdirSync(join(s.dir, 'by-age'));
      execFileSync(
        'sh',
        ['-c', `age -d -i key.txt '${join(s.remote, `${name}.age`)}' | tar xzf - -C by-age`],
        {
          cwd: s.dir,
        },
      );
      const want = snapshotTree(s.data);
      // GNU tar restores whole-second mtimes from a ustar header: compare what the files hold.
      expect(digestOf(snapshotTree(join(s.dir, 'by-age', archivePathOf(s.data))))).toEqual(digestOf(want));
      const t = s3Target(s);
      try {
        expect(sha256(await t.getText(`${name}.age`))).toBe(sha256(cipher));
      } finally {
        t.close();
      }
      const out = join(s.dir, 'out');
      const r = await cliAsync(
        ['backup', 'restore', `s3://bkt/web-3/${name}`, '--to', out, '--identity', join(s.dir, 'key.txt')],
        { cwd: s.home, env: { TMPDIR: s.dir } },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(snapshotTree(join(out, archivePathOf(s.data)))).toEqual(want);
    },
    120_000,
  );
});

describe.skipIf(noSshd)('backup of a SQLite database with no local dest', () => {
  it('stages the copy under the state dir, streams it, removes the staging, and the restored database has every row', async (ctx) => {
    const s = await setup(ctx, 1, 16);
    const dbPath = join(s.data, 'app.db');
    const db = openSqlite(dbPath);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    for (let i = 0; i < 500; i++) db.prepare('INSERT INTO t (v) VALUES (?)').run(`row ${i}`);
    db.close();
    const ct = caretakerWith(
      s.home,
      `  bk:\n    action: backup\n    with:\n      paths: ['${s.data}']\n      sqlite: ['${dbPath}']\n` +
        `      copies:\n        - ${sftpCopy(s)}\n`,
    );
    let name: string;
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status, r.result?.summary ?? '').toBe('success');
      expect(r.result?.summary).toContain('and 1 database');
      name = String(r.result?.details?.archive);
    } finally {
      await ct.close();
    }
    expect(readdirSync(join(s.home, '.caretaker')).filter((f) => f.startsWith('backup-'))).toEqual([]);
    const out = join(s.dir, 'out');
    const r = await cliAsync(['backup', 'restore', `${s.sshd.url(s.remote)}/${name}`, '--to', out], {
      cwd: s.home,
      env: { TMPDIR: s.dir },
    });
    expect(r.code, r.stderr).toBe(0);
    const restored = openSqlite(join(out, archivePathOf(dbPath)), { readonly: true });
    try {
      expect((restored.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(500);
    } finally {
      restored.close();
    }
  }, 60_000);
});

describe('backup without dest and without copies', () => {
  it('is a config error: one line, exit 2', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\nstate_dir: .caretaker\ntasks:\n  bk:\n    action: backup\n    with:\n      paths: [data]\n',
    );
    const r = await cliAsync(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tasks.bk.with');
    expect(r.stderr).toContain('nowhere to put the archive: set dest (a local directory), copies');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
