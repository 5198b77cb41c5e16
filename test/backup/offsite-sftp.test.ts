/**
 * Backup copies on an SFTP server, end to end: real backup runs against a real OpenSSH sshd that
 * each test starts on a loopback port (test/support/sshd.ts), with a generated host key and user
 * key; the CLI for list / verify / restore; the real `age` CLI for the encrypted copy; a real
 * tmpfs for the full remote disk. The remote directory is on this machine, so the tests read the
 * server's side with plain fs calls (and watch it with inotify to see the order of uploads).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listArchiveFiles } from '../../src/backup/archive-name.js';
import { readSidecar } from '../../src/backup/manifest.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { skipBecause } from '../support/skip-reason.js';
import { keygen, sshdMissing, startSshd, type LoopbackSshd } from '../support/sshd.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

const noSshd = (() => {
  const why = sshdMissing();
  return why ? skipBecause('SFTP copy tests', why, { requiredUnderCi: true }) : undefined;
})();
const ageMissing =
  spawnSync('age', ['--version']).status === 0
    ? undefined
    : skipBecause('the encrypted SFTP copy', 'the age CLI is not installed (apt-get install age)', {
        requiredUnderCi: true,
      });

let servers: LoopbackSshd[] = [];
let s3s: LoopbackS3[] = [];
let watchers: FSWatcher[] = [];
let mounts: string[] = [];
afterEach(async () => {
  for (const w of watchers) w.close();
  for (const s of servers) await s.kill();
  for (const s of s3s) await s.kill();
  for (const m of mounts) spawnSync('umount', [m]);
  servers = [];
  s3s = [];
  watchers = [];
  mounts = [];
});

async function sshd(dir: string): Promise<LoopbackSshd> {
  const s = await startSshd(join(dir, 'sshd'));
  servers.push(s);
  return s;
}

function copyYaml(s: LoopbackSshd, remote: string, extra = ''): string {
  return `{ to: '${s.url(remote)}', key_file: '${s.userKey}', known_hosts: '${s.knownHostsFile}'${extra} }`;
}

function backupYaml(copies: string[], extra = ''): string {
  return (
    `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      compression: 1\n` +
    `      copies:\n${copies.map((c) => `        - ${c}\n`).join('')}${extra}`
  );
}

function makeData(dir: string, bigMiB = 0): void {
  mkdirSync(join(dir, 'data/sub'), { recursive: true });
  writeFileSync(join(dir, 'data/hello.txt'), 'hello\n');
  writeFileSync(join(dir, 'data/sub/notes.md'), '# notes\n'.repeat(100));
  if (bigMiB) writeFileSync(join(dir, 'data/big.bin'), randomBytes(bigMiB * 1024 * 1024)); // incompressible
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The files in the remote directory, temp files included. */
function remoteFiles(remote: string): string[] {
  return existsSync(remote) ? readdirSync(remote).sort() : [];
}

describe.skipIf(noSshd)('backup copies to SFTP (a real sshd on loopback)', () => {
  it('uploads the archive and then its manifest, byte-identical to the local ones, and applies the copy keep rules', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir, 3);
    const remote = join(dir, 'remote/web-3');
    mkdirSync(remote, { recursive: true });
    // The order in which finished files appear on the server (inotify on its directory).
    const appeared: string[] = [];
    watchers.push(
      watch(remote, (_ev, name) => {
        if (name && !name.startsWith('.') && existsSync(join(remote, name)) && !appeared.includes(name))
          appeared.push(name);
      }),
    );
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, remote, ', keep: { last: 2 }')]));
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await runTask(ct, 'bk'));
      for (const r of runs) expect(r.status, r.result?.summary ?? r.reason ?? '').toBe('success');
      expect(runs[0]!.result?.summary).toContain(`copied to ${s.url(remote)}/bk-`);
      expect(runs[2]!.result?.summary).toContain('pruned 1 there');
    } finally {
      await ct.close();
    }
    const local = listArchiveFiles(join(dir, 'backups'), 'bk');
    expect(local).toHaveLength(3); // no local keep rule
    // The newest two are on the server, each as archive + manifest, nothing else (no temp file).
    expect(remoteFiles(remote)).toEqual(
      local
        .slice(0, 2)
        .flatMap((a) => [a.name, `${a.name}.manifest.json`])
        .sort(),
    );
    for (const a of local.slice(0, 2)) {
      expect(sha256(readFileSync(join(remote, a.name)))).toBe(sha256(readFileSync(a.path)));
      expect(readFileSync(join(remote, `${a.name}.manifest.json`))).toEqual(
        readFileSync(`${a.path}.manifest.json`),
      );
      expect(readSidecar(a.path)!.archive.size).toBe(statSync(join(remote, a.name)).size);
    }
    // Each archive appeared before its manifest.
    for (const a of local) {
      const at = appeared.indexOf(a.name);
      const manifestAt = appeared.indexOf(`${a.name}.manifest.json`);
      expect(at, appeared.join(' ')).toBeGreaterThanOrEqual(0);
      expect(manifestAt).toBeGreaterThan(at);
    }
  }, 90_000);

  it('backup list, verify and restore read the copy from sftp://; a changed byte fails verify', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir, 1);
    const remote = join(dir, 'remote');
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, remote)]));
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status, r.result?.summary ?? '').toBe('success');
    } finally {
      await ct.close();
    }
    const [local] = listArchiveFiles(join(dir, 'backups'));
    writeFileSync(join(remote, 'bk-20300101T000000Z.tar.gz'), 'no manifest: not a good archive');
    const list = await cliAsync(['backup', 'list'], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.includes('sftp://'));
    expect(line).toMatch(
      new RegExp(`^${local!.name.replace(/\./g, '\\.')}\\s+${s.url(remote).replace(/\./g, '\\.')}\\s+\\d`),
    );
    expect(list.stdout).not.toContain('20300101');
    const json = JSON.parse((await cliAsync(['backup', 'list', '--json'], { cwd: dir })).stdout) as {
      where: string;
    }[];
    expect(json.map((a) => a.where)).toEqual(['local', s.url(remote)]);

    const url = `${s.url(remote)}/${local!.name}`;
    const ok = await cliAsync(['backup', 'verify', url], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok\s+sftp:\/\/.*\.tar\.gz {2}\d+ entries/);

    const restored = await cliAsync(['backup', 'restore', url, '--to', 'out'], { cwd: dir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('every file matched its SHA-256');
    const big = execFileSync('find', ['out', '-name', 'big.bin'], { cwd: dir, encoding: 'utf8' }).trim();
    expect(sha256(readFileSync(join(dir, big)))).toBe(sha256(readFileSync(join(dir, 'data/big.bin'))));

    const bytes = readFileSync(join(remote, local!.name));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100); // same size
    writeFileSync(join(remote, local!.name), bytes);
    const bad = await cliAsync(['backup', 'verify', url], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('does not match its SHA-256');
    const refused = await cliAsync(['backup', 'restore', url, '--to', 'out2'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  }, 90_000);

  it.skipIf(ageMissing)(
    'an encrypted copy: only ciphertext and a clear index on the server; restore needs --identity',
    async () => {
      const dir = tempDir();
      const s = await sshd(dir);
      makeData(dir, 1);
      execFileSync('age-keygen', ['-o', join(dir, 'key.txt')], { stdio: 'ignore' });
      const pub = execFileSync('age-keygen', ['-y', join(dir, 'key.txt')], { encoding: 'utf8' }).trim();
      const remote = join(dir, 'remote');
      const ct = caretakerWith(
        dir,
        backupYaml([copyYaml(s, remote)], `      encrypt: { recipients: ['${pub}'] }\n`),
      );
      try {
        const r = await runTask(ct, 'bk');
        expect(r.status, r.result?.summary ?? '').toBe('success');
        expect(r.result?.summary).toContain('(age-encrypted)');
      } finally {
        await ct.close();
      }
      const [local] = listArchiveFiles(join(dir, 'backups'));
      const name = local!.name;
      expect(remoteFiles(remote)).toEqual([
        `${name}.age`,
        `${name}.age.index.json`,
        `${name}.manifest.json.age`,
      ]);
      // The standard tool reads it: age -d -i key | tar xz.
      mkdirSync(join(dir, 'by-age'));
      execFileSync('sh', ['-c', `age -d -i key.txt '${join(remote, `${name}.age`)}' | tar xzf - -C by-age`], {
        cwd: dir,
      });
      const url = `${s.url(remote)}/${name}`;
      const without = await cliAsync(['backup', 'restore', url, '--to', 'out'], { cwd: dir });
      expect(without.code).toBe(1);
      expect(without.stderr).toContain('is encrypted: give the key with --identity FILE');
      const r = await cliAsync(['backup', 'restore', url, '--to', 'out', '--identity', 'key.txt'], {
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(0);
      const big = execFileSync('find', ['out', '-name', 'big.bin'], { cwd: dir, encoding: 'utf8' }).trim();
      expect(sha256(readFileSync(join(dir, big)))).toBe(sha256(readFileSync(join(dir, 'data/big.bin'))));
      const v = await cliAsync(['backup', 'verify', url, '--identity', 'key.txt'], { cwd: dir });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toMatch(/^ok\s+sftp:\/\/.*\.age {2}\d+ entries/);
    },
    90_000,
  );

  it('an unknown or changed host key: one line with the fingerprint, the run fails, the local archive is kept, nothing on the server', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir);
    const other = readFileSync(`${keygen(dir, 'other_host')}.pub`, 'utf8')
      .trim()
      .split(/\s+/);
    // Another key for this [host]:port (changed), and a hashed line for another host (unknown).
    writeFileSync(join(dir, 'changed_hosts'), `[127.0.0.1]:${s.port} ${other[0]} ${other[1]}\n`);
    const hashed = execFileSync('sh', [
      '-c',
      `printf '%s\\n' '[127.0.0.1]:1 ${other[0]} ${other[1]}' > ${join(dir, 'unknown_hosts')} && ssh-keygen -H -f ${join(dir, 'unknown_hosts')} 2>&1`,
    ]).toString();
    expect(hashed).toContain('hashed');
    const remote = join(dir, 'remote');
    const ct = caretakerWith(
      dir,
      backupYaml([
        copyYaml(s, `${remote}/a`).replace(s.knownHostsFile, join(dir, 'changed_hosts')),
        copyYaml(s, `${remote}/b`).replace(s.knownHostsFile, join(dir, 'unknown_hosts')),
      ]),
    );
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status).toBe('failed');
      const summary = r.result?.summary ?? '';
      expect(summary.split('\n')).toHaveLength(1);
      expect(summary).toContain(
        `copy ${s.url(`${remote}/a`)}: host key of [127.0.0.1]:${s.port} has CHANGED: the server offers ssh-ed25519 ${s.hostFingerprint}`,
      );
      expect(summary).toContain(
        `copy ${s.url(`${remote}/b`)}: host key of [127.0.0.1]:${s.port} is not in ${join(dir, 'unknown_hosts')}: the server offers ssh-ed25519 ${s.hostFingerprint}; refused`,
      );
      expect(summary).toContain('2 copies of 2 failed; the local archive is kept');
    } finally {
      await ct.close();
    }
    expect(listArchiveFiles(join(dir, 'backups'))).toHaveLength(1);
    expect(existsSync(remote)).toBe(false); // refused before anything was written
    expect(s.log()).not.toContain('Accepted publickey'); // the key was never offered to it
  }, 60_000);

  it('a wrong user key, a missing known_hosts file, a key in the environment with a passphrase: one line each, no secret', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir);
    const stranger = keygen(dir, 'stranger');
    // The authorized key again, protected by a passphrase, given whole in an environment variable.
    execFileSync('cp', [s.userKey, join(dir, 'locked')]);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', 'pass-7Q2X-secret', '-f', join(dir, 'locked')]);
    const lockedKey = readFileSync(join(dir, 'locked'), 'utf8');
    const env = { TEST_SFTP_KEY: lockedKey, TEST_SFTP_PASS: 'pass-7Q2X-secret', TEST_SFTP_BAD: 'wrong-9K1Z' };
    Object.assign(process.env, env);
    const remote = join(dir, 'remote');
    const ct = caretakerWith(
      dir,
      backupYaml([
        copyYaml(s, `${remote}/wrong-key`).replace(s.userKey, stranger),
        copyYaml(s, `${remote}/no-kh`).replace(s.knownHostsFile, join(dir, 'nowhere/known_hosts')),
        `{ to: '${s.url(`${remote}/env`)}', key_env: TEST_SFTP_KEY, passphrase_env: TEST_SFTP_PASS, known_hosts: '${s.knownHostsFile}' }`,
        `{ to: '${s.url(`${remote}/bad-pass`)}', key_env: TEST_SFTP_KEY, passphrase_env: TEST_SFTP_BAD, known_hosts: '${s.knownHostsFile}' }`,
      ]),
    );
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status).toBe('failed');
      const summary = r.result?.summary ?? '';
      expect(summary.split('\n')).toHaveLength(1);
      expect(summary).toContain(
        `copy ${s.url(`${remote}/wrong-key`)}: the server refused the key for user ${s.user}`,
      );
      expect(summary).toContain(
        `copy ${s.url(`${remote}/no-kh`)}: known_hosts ${join(dir, 'nowhere/known_hosts')}: cannot read it (ENOENT)`,
      );
      expect(summary).toContain(`copied to ${s.url(`${remote}/env`)}/bk-`);
      expect(summary).toContain(
        `copy ${s.url(`${remote}/bad-pass`)}: key_env TEST_SFTP_KEY: cannot decrypt it (wrong passphrase?)`,
      );
      expect(summary).toContain('3 copies of 4 failed; the local archive is kept');
      const all = JSON.stringify(r);
      for (const secret of [env.TEST_SFTP_PASS, env.TEST_SFTP_BAD, lockedKey.split('\n')[1]!])
        expect(all).not.toContain(secret);
    } finally {
      await ct.close();
      for (const k of Object.keys(env)) delete process.env[k];
    }
    expect(remoteFiles(`${remote}/env`)).toHaveLength(2);
    expect(existsSync(`${remote}/wrong-key`)).toBe(false);
  }, 60_000);

  it('sshd killed mid-upload: one line, nothing listed, and the next run succeeds and removes the leftover', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir, 40);
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    let killed: Promise<void> | undefined;
    watchers.push(
      watch(remote, (_ev, name) => {
        if (killed || !name?.endsWith('.part')) return;
        try {
          if (statSync(join(remote, name)).size > 8 * 1024 * 1024) killed = s.kill();
        } catch {
          // renamed meanwhile
        }
      }),
    );
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, remote)]));
    try {
      const cut = await runTask(ct, 'bk');
      expect(killed).toBeDefined();
      await killed;
      expect(cut.status).toBe('failed');
      const summary = cut.result?.summary ?? '';
      expect(summary.split('\n')).toHaveLength(1);
      expect(summary).toMatch(
        new RegExp(`^copy ${s.url(remote).replace(/\./g, '\\.')}: the connection to .* was (cut|closed)`),
      );
      expect(summary).toContain('the local archive is kept');
      const leftover = remoteFiles(remote);
      expect(leftover).toHaveLength(1);
      expect(leftover[0]).toMatch(/^\.bk-.*\.part$/); // half an upload, under its temp name

      await s.restart();
      const list = await cliAsync(['backup', 'list', '--json'], { cwd: dir });
      expect(list.code, list.stderr).toBe(0);
      expect((JSON.parse(list.stdout) as { where: string }[]).map((a) => a.where)).toEqual(['local']);

      const next = await runTask(ct, 'bk');
      expect(next.status, next.result?.summary ?? '').toBe('success');
      const newest = listArchiveFiles(join(dir, 'backups'))[0]!;
      expect(remoteFiles(remote)).toEqual([newest.name, `${newest.name}.manifest.json`]);
    } finally {
      await ct.close();
    }
  }, 120_000);

  it('an archive without its manifest (a crash between the two) is removed by the next run', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir);
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const orphan = 'bk-20260101T000000Z.tar.gz';
    writeFileSync(join(remote, orphan), 'half an archive');
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, remote)]));
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status, r.result?.summary ?? '').toBe('success');
    } finally {
      await ct.close();
    }
    expect(remoteFiles(remote)).not.toContain(orphan);
    expect(remoteFiles(remote)).toHaveLength(2);
  }, 60_000);

  it('a full remote disk (a 2 MiB tmpfs): one line naming the copy, earlier archives intact, the next run ok once there is space', async (ctx) => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir);
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', remote], { encoding: 'utf8' });
    if (m.status !== 0)
      ctx.skip(skipBecause('the full SFTP disk test', `cannot mount a tmpfs: ${m.stderr.trim()}`));
    mounts.push(remote);
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, remote)]));
    try {
      const first = await runTask(ct, 'bk');
      expect(first.status, first.result?.summary ?? '').toBe('success');
      const before = remoteFiles(remote);
      expect(before).toHaveLength(2);
      writeFileSync(join(dir, 'data/big.bin'), randomBytes(3 * 1024 * 1024));
      const full = await runTask(ct, 'bk');
      expect(full.status).toBe('failed');
      const summary = full.result?.summary ?? '';
      expect(summary.split('\n')).toHaveLength(1);
      expect(summary).toMatch(
        new RegExp(
          `^copy ${s.url(remote).replace(/\./g, '\\.')}: upload of bk-.*: the server's disk is full`,
        ),
      );
      expect(summary).toContain('the local archive is kept');
      expect(remoteFiles(remote)).toEqual(before); // the earlier copy intact, the temp file gone
      expect(listArchiveFiles(join(dir, 'backups'))).toHaveLength(2);

      expect(spawnSync('mount', ['-o', 'remount,size=16m', remote]).status).toBe(0);
      const next = await runTask(ct, 'bk');
      expect(next.status, next.result?.summary ?? '').toBe('success');
      expect(remoteFiles(remote)).toHaveLength(4);
    } finally {
      await ct.close();
    }
  }, 90_000);

  it('verify-backups streams the newest SFTP copy and checks it; a changed byte on the server fails it', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    makeData(dir);
    const remote = join(dir, 'remote');
    const copy = copyYaml(s, remote);
    const ct = caretakerWith(
      dir,
      backupYaml([copy]) +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      task: bk\n      copy: ${copy}\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
      const good = await runTask(ct, 'vb');
      expect(good.status, good.result?.summary ?? '').toBe('success');
      expect(good.result?.summary).toContain(`copy ${s.url(remote)}: verified 1 archive`);
      const [name] = remoteFiles(remote).filter((f) => f.endsWith('.tar.gz'));
      const bytes = readFileSync(join(remote, name!));
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
      writeFileSync(join(remote, name!), bytes);
      const bad = await runTask(ct, 'vb');
      expect(bad.status).toBe('failed');
      expect(bad.result?.summary).toContain(
        `copy ${s.url(remote)}: 1 of 1 FAILED: ${name}: the stored object does not match its SHA-256`,
      );
    } finally {
      await ct.close();
    }
  }, 60_000);

  it('a failing SFTP copy does not stop an S3 copy beside it', async () => {
    const dir = tempDir();
    const s = await sshd(dir);
    const s3 = await startS3(join(dir, 's3'), ['bkt']);
    s3s.push(s3);
    Object.assign(process.env, S3_ENV);
    makeData(dir);
    const s3Copy = `{ to: 's3://bkt/web-3', endpoint: '${s3.endpoint}', region: us-east-1, path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET }`;
    await s.kill(); // the SFTP server is down
    const ct = caretakerWith(dir, backupYaml([copyYaml(s, join(dir, 'remote')), s3Copy]));
    try {
      const r = await runTask(ct, 'bk');
      expect(r.status).toBe('failed');
      const summary = r.result?.summary ?? '';
      expect(summary).toContain(
        `copy ${s.url(join(dir, 'remote'))}: connection to 127.0.0.1:${s.port} refused: is the host right and sshd up? (ECONNREFUSED)`,
      );
      expect(summary).toContain('1 copy of 2 failed; the local archive is kept');
      expect(summary).toContain('copied to s3://bkt/web-3/bk-');
    } finally {
      await ct.close();
    }
  }, 60_000);
});

describe('sftp:// copies at config load', () => {
  it('an sftp copy without known_hosts or without a key is a config error naming the key path', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\ntasks:\n  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - { to: 'sftp://backup@127.0.0.1:2222/srv/x', key_file: id_ed25519 }\n        - { to: 'sftp://backup@127.0.0.1/srv/y', known_hosts: kh, region: eu-west-1 }\n`,
    );
    const r = await cliAsync(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('tasks.bk.with.copies.0.known_hosts');
    expect(r.stdout + r.stderr).toContain('never trusts a host key on first use');
    expect(r.stdout + r.stderr).toContain('tasks.bk.with.copies.1.key_file');
    expect(r.stdout + r.stderr).toContain('region is for s3:// copies, not sftp://');
  }, 30_000);
});
