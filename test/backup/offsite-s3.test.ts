/**
 * Backup copies on an S3-compatible bucket, end to end: real backup runs, a real S3 HTTP server
 * and the real `age` CLI.
 *
 * No real S3 server can run on this machine (no MinIO, Ceph or AWS here): the server is `s3rver`,
 * started in this process on a loopback port, with SigV4 authentication and multipart uploads.
 * s3rver checks the access key id but not SigV4 signatures, so a wrong *secret* cannot be tested
 * here (the message for it, SignatureDoesNotMatch, is mapped the same way as InvalidAccessKeyId).
 * The CLI is spawned asynchronously (cliAsync) so that the in-process server keeps answering.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { readSidecar } from '../../src/backup/manifest.js';
import { listArchiveFiles } from '../../src/backup/archive-name.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

const ageMissing =
  spawnSync('age', ['--version']).status === 0 && spawnSync('age-keygen', ['--help']).status !== null
    ? undefined
    : skipBecause('age round trips', 'the age CLI is not installed (apt-get install age)', {
        requiredUnderCi: true,
      });

let servers: LoopbackS3[] = [];
beforeAll(() => Object.assign(process.env, S3_ENV, { TEST_S3_WRONG: 'NOT-A-KEY-4F1C9E' }));
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
});

async function server(dir: string, port = 0): Promise<LoopbackS3> {
  const s = await startS3(join(dir, 's3'), ['bkt'], port);
  servers.push(s);
  return s;
}

function copyYaml(s: LoopbackS3, to: string, extra = ''): string {
  return `{ to: '${to}', endpoint: '${s.endpoint}', region: us-east-1, path_style: true, access_key_env: ${extra.includes('WRONG') ? 'TEST_S3_WRONG' : 'TEST_S3_KEY'}, secret_key_env: TEST_S3_SECRET${extra.replace('WRONG', '')} }`;
}

function target(s: LoopbackS3, to = 's3://bkt/web-3'): S3Target {
  return new S3Target(
    {
      to,
      endpoint: s.endpoint,
      path_style: true,
      access_key_env: 'TEST_S3_KEY',
      secret_key_env: 'TEST_S3_SECRET',
    },
    {},
  );
}

function makeData(dir: string, bigMiB = 0): void {
  mkdirSync(join(dir, 'data/sub'), { recursive: true });
  writeFileSync(join(dir, 'data/hello.txt'), 'hello\n');
  writeFileSync(join(dir, 'data/sub/notes.md'), '# notes\n'.repeat(100));
  if (bigMiB) writeFileSync(join(dir, 'data/big.bin'), randomBytes(bigMiB * 1024 * 1024)); // incompressible
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function objectBytes(t: S3Target, name: string): Promise<Buffer> {
  return t.getText(name);
}

describe('backup copies to S3 (s3rver on loopback)', () => {
  it('streams an archive larger than the part size as a multipart upload, manifest last, and applies the copy keep rules', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir, 12);
    const requests: string[] = [];
    s.server.on('request', (req) => requests.push(`${req.method} ${req.url}`));
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      compression: 1\n      copies:\n        - ${copyYaml(s, 's3://bkt/web-3', ', part_size_mb: 5, keep: { last: 2 }')}\n`,
    );
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await runTask(ct, 'bk'));
      for (const r of runs) expect(r.status, r.result?.summary ?? r.reason ?? '').toBe('success');
      expect(runs[0]!.result?.summary).toMatch(/copied to s3:\/\/bkt\/web-3\/bk-\d{8}T\d{6}Z\.tar\.gz/);
      // > 10 MiB in parts of 5 MiB: three parts per run, the manifest as one plain PUT after them.
      const parts = requests.filter((r) => /^PUT .*partNumber=\d+/.test(r));
      expect(parts.length).toBeGreaterThanOrEqual(9);
      const firstRun = requests.slice(0, requests.findIndex((r) => r.includes('manifest.json')) + 1);
      expect(firstRun.at(-1)).toMatch(/^PUT .*\.tar\.gz\.manifest\.json/);
      expect(firstRun.filter((r) => r.includes('uploadId=') && r.startsWith('POST')).length).toBe(1); // completed before

      const local = listArchiveFiles(join(dir, 'backups'), 'bk');
      expect(local).toHaveLength(3); // no local keep rule
      const t = target(s);
      const remote = await listRemote(t, 'bk');
      expect(remote.map((a) => a.name)).toEqual(local.slice(0, 2).map((a) => a.name)); // newest two
      const newest = readSidecar(local[0]!.path)!;
      const bytes = await objectBytes(t, remote[0]!.object);
      expect(bytes.length).toBe(newest.archive.size);
      expect(sha256(bytes)).toBe(newest.archive.sha256); // the same bytes as the local archive
      expect((await t.list()).map((o) => o.key).sort()).toEqual(
        remote.flatMap((a) => [a.name, `${a.name}.manifest.json`]).sort(), // the pruned one fully gone
      );
      t.close();
    } finally {
      await ct.close();
    }
  }, 60_000);

  it('a server killed mid-upload fails the run with one line naming the copy; the next run succeeds and clears the leftovers', async () => {
    const dir = tempDir();
    let s = await server(dir);
    makeData(dir, 12);
    let killed = false;
    s.server.on('request', (req) => {
      if (!killed && /partNumber=2/.test(req.url ?? '')) {
        killed = true;
        void s.kill();
      }
    });
    const yaml = `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      compression: 1\n      copies:\n        - ${copyYaml(s, 's3://bkt/web-3', ', part_size_mb: 5')}\n`;
    const ct = caretakerWith(dir, yaml);
    try {
      const cut = await runTask(ct, 'bk');
      expect(killed).toBe(true);
      expect(cut.status).toBe('failed');
      const summary = cut.result?.summary ?? '';
      expect(summary).toMatch(/^copy s3:\/\/bkt\/web-3: .*(cut|refused|ECONN|socket|EPIPE|closed)/i);
      expect(summary).toContain('the local archive is kept');
      expect(summary).not.toContain('S3RVER');
      expect(listArchiveFiles(join(dir, 'backups'), 'bk')).toHaveLength(1);

      s = await server(dir, s.port); // the server is back, same data
      const t = target(s);
      expect(await listRemote(t)).toEqual([]); // the interrupted upload does not count
      // What a crash between archive and manifest leaves: an archive object without its manifest.
      const orphan = 'bk-20260101T000000Z.tar.gz';
      await t.put(orphan, 'half an archive');
      const next = await runTask(ct, 'bk');
      expect(next.status, next.result?.summary ?? next.reason ?? '').toBe('success');
      const remote = await listRemote(t);
      expect(remote).toHaveLength(1);
      expect(remote[0]!.name).toBe(listArchiveFiles(join(dir, 'backups'), 'bk')[0]!.name);
      expect((await t.list()).map((o) => o.key)).not.toContain(orphan);
      t.close();
    } finally {
      await ct.close();
    }
  }, 60_000);

  it('wrong credentials and a missing bucket: one line each naming the copy, no secret, the good copy and earlier archives intact', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n` +
        `        - ${copyYaml(s, 's3://bkt/wrong-key', 'WRONG')}\n` +
        `        - ${copyYaml(s, 's3://no-such-bucket/x')}\n` +
        `        - ${copyYaml(s, 's3://bkt/good')}\n` +
        `        - ${copyYaml(s, 's3://bkt/unset').replace('TEST_S3_KEY', 'TEST_S3_UNSET_VAR')}\n`,
    );
    try {
      const first = await runTask(ct, 'bk');
      const second = await runTask(ct, 'bk');
      for (const r of [first, second]) {
        expect(r.status).toBe('failed');
        const summary = r.result?.summary ?? '';
        expect(summary).toContain(
          'copy s3://bkt/wrong-key: the access key is not known to the server (InvalidAccessKeyId)',
        );
        expect(summary).toContain('copy s3://no-such-bucket/x: the bucket does not exist (NoSuchBucket)');
        expect(summary).toContain('copy s3://bkt/unset: environment variable TEST_S3_UNSET_VAR is not set');
        expect(summary).toContain('3 copies of 4 failed; the local archive is kept');
        expect(summary).toContain('copied to s3://bkt/good/');
        expect(summary).not.toMatch(/NOT-A-KEY|S3RVER/);
        expect(summary.split('\n')).toHaveLength(1);
      }
      const t = target(s, 's3://bkt/good');
      expect((await listRemote(t)).map((a) => a.name)).toEqual(
        listArchiveFiles(join(dir, 'backups'), 'bk').map((a) => a.name),
      );
      t.close();
    } finally {
      await ct.close();
    }
  }, 60_000);
});

describe('backup restore of a copy URL the configuration does not have', () => {
  it('a mistyped prefix without S3 credentials in the environment is one line naming the configured copy, exit 2', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copyYaml(s, 's3://bkt/web-3')}\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
    } finally {
      await ct.close();
    }
    const [local] = listArchiveFiles(join(dir, 'backups'));
    // No credentials anywhere the SDK looks (environment, ~/.aws, the instance metadata).
    const env = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: s.endpoint,
    };
    for (const verb of [['restore', '--to', 'out'], ['verify']]) {
      const r = await cliAsync(['backup', verb[0]!, `s3://bkt/web-9/${local!.name}`, ...verb.slice(1)], {
        cwd: dir,
        env,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(
        'caretaker: s3://bkt/web-9: not a copy in the configuration (did you mean "s3://bkt/web-3"?), and no S3 credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
      );
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  }, 60_000);
});

describe.skipIf(ageMissing)('age-encrypted copies and the age CLI', () => {
  function keygen(dir: string, name: string): string {
    execFileSync('age-keygen', ['-o', join(dir, name)], { stdio: 'ignore' });
    return execFileSync('age-keygen', ['-y', join(dir, name)], { encoding: 'utf8' }).trim();
  }

  it('a caretaker copy decrypts with `age -d -i key | tar xz`; restore and verify need the key, and a wrong one is one line', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir, 1);
    const pub = keygen(dir, 'key.txt');
    keygen(dir, 'wrong.txt');
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copyYaml(s, 's3://bkt/enc')}\n      encrypt: { recipients: ['${pub}'], identity_file: key.txt }\n`,
    );
    try {
      const run = await runTask(ct, 'bk');
      expect(run.status, run.result?.summary ?? '').toBe('success');
      expect(run.result?.summary).toContain('(age-encrypted)');
    } finally {
      await ct.close();
    }
    const t = target(s, 's3://bkt/enc');
    const [a] = await listRemote(t);
    expect(a!.encrypted).toBe(true);
    const keys = (await t.list()).map((o) => o.key).sort();
    expect(keys).toEqual([`${a!.name}.age`, `${a!.name}.age.index.json`, `${a!.name}.manifest.json.age`]);
    const cipher = await t.getText(`${a!.name}.age`);
    const index = JSON.parse((await t.getText(`${a!.name}.age.index.json`)).toString()) as Record<
      string,
      unknown
    >;
    expect(index).toMatchObject({ name: a!.name, task: 'bk', size: cipher.length, sha256: sha256(cipher) });
    expect(JSON.stringify(index)).not.toContain('hello.txt'); // the clear index names no file
    // The standard tools read it: age -d -i key | tar xz.
    writeFileSync(join(dir, 'copy.age'), cipher);
    mkdirSync(join(dir, 'by-age'));
    execFileSync('sh', ['-c', `age -d -i key.txt copy.age | tar xzf - -C by-age`], { cwd: dir });
    const found = execFileSync('find', ['by-age', '-name', 'hello.txt'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    expect(readFileSync(join(dir, found), 'utf8')).toBe('hello\n');
    const manifest = execFileSync('age', ['-d', '-i', join(dir, 'key.txt')], {
      input: await t.getText(`${a!.name}.manifest.json.age`),
    }).toString();
    expect(manifest).toContain('"format": "caretaker-backup/1"');
    t.close();

    const url = `s3://bkt/enc/${a!.name}`;
    const ok = await cliAsync(['backup', 'verify', url], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok\s+s3:\/\/bkt\/enc\/.*\.age {2}\d+ entries/);
    const restored = await cliAsync(['backup', 'restore', url, '--to', 'out'], { cwd: dir });
    expect(restored.code, restored.stderr).toBe(0);
    const inOut = execFileSync('find', ['out', '-name', 'big.bin'], { cwd: dir, encoding: 'utf8' }).trim();
    expect(sha256(readFileSync(join(dir, inOut)))).toBe(sha256(readFileSync(join(dir, 'data/big.bin'))));

    const wrong = await cliAsync(['backup', 'restore', url, '--to', 'out2', '--identity', 'wrong.txt'], {
      cwd: dir,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('none of the given identities can decrypt it (wrong key?)');
    expect(wrong.stderr).not.toContain('AGE-SECRET-KEY');
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  }, 60_000);

  it('an archive encrypted with the age CLI restores with caretaker, and verify without the key checks the ciphertext', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const pub = keygen(dir, 'key.txt');
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
    } finally {
      await ct.close();
    }
    const [local] = listArchiveFiles(join(dir, 'backups'));
    // Encrypted by hand with the age CLI, as an operator moving old archives off-site would.
    const cipher = execFileSync('age', ['-r', pub, local!.path]);
    const manifest = execFileSync('age', ['-r', pub, `${local!.path}.manifest.json`]);
    const t = target(s, 's3://bkt/by-hand');
    await t.put(`${local!.name}.age`, cipher);
    await t.put(`${local!.name}.manifest.json.age`, manifest);
    await t.put(
      `${local!.name}.age.index.json`,
      JSON.stringify({
        format: 'caretaker-copy-index/1',
        name: local!.name,
        task: 'bk',
        createdAt: new Date(local!.time).toISOString(),
        size: cipher.length,
        sha256: sha256(cipher),
      }),
    );
    t.close();
    const env = {
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    const url = `s3://bkt/by-hand/${local!.name}`;
    const r = await cliAsync(['backup', 'restore', url, '--to', 'out', '--identity', 'key.txt'], {
      cwd: dir,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('every file matched its SHA-256');
    const hello = execFileSync('find', ['out', '-name', 'hello.txt'], { cwd: dir, encoding: 'utf8' }).trim();
    expect(readFileSync(join(dir, hello), 'utf8')).toBe('hello\n');

    const v = await cliAsync(['backup', 'verify', url], { cwd: dir, env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('without the key (--identity FILE) the contents were not checked');
  }, 60_000);
});

describe('verify-backups on a copy', () => {
  it('streams the newest copy and checks every checksum; a changed byte in the bucket fails it', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const copy = copyYaml(s, 's3://bkt/web-3');
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copy}\n` +
        `  vb:\n    action: verify-backups\n    with:\n      dest: backups\n      task: bk\n      copy: ${copy}\n`,
    );
    try {
      expect((await runTask(ct, 'bk')).status).toBe('success');
      const good = await runTask(ct, 'vb');
      expect(good.status, good.result?.summary ?? '').toBe('success');
      expect(good.result?.summary).toContain('copy s3://bkt/web-3: verified 1 archive');
      const t = target(s);
      const [a] = await listRemote(t);
      const bytes = await t.getText(a!.object);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100); // one flipped byte, same size
      await t.put(a!.object, bytes);
      t.close();
      const bad = await runTask(ct, 'vb');
      expect(bad.status).toBe('failed');
      expect(bad.result?.summary).toContain(
        `copy s3://bkt/web-3: 1 of 1 FAILED: ${a!.name}: the stored object does not match its SHA-256`,
      );
    } finally {
      await ct.close();
    }
  }, 60_000);
});

describe('backup list shows the copies', () => {
  it('lists complete archives of each copy with where, size and age, and one line for a copy it cannot read', async () => {
    const dir = tempDir();
    const s = await server(dir);
    makeData(dir);
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      copies:\n        - ${copyYaml(s, 's3://bkt/web-3')}\n        - ${copyYaml(s, 's3://gone-bucket/x')}\n`,
    );
    try {
      await runTask(ct, 'bk');
    } finally {
      await ct.close();
    }
    const t = target(s);
    await t.put('bk-20300101T000000Z.tar.gz', 'no manifest: not a good archive');
    t.close();
    const [local] = listArchiveFiles(join(dir, 'backups'));
    const r = await cliAsync(['backup', 'list'], { cwd: dir });
    expect(r.code).toBe(1); // a copy could not be listed
    const line = r.stdout.split('\n').find((l) => l.includes('s3://bkt/web-3'));
    expect(line).toMatch(
      new RegExp(
        `^${local!.name.replace(/\./g, '\\.')}\\s+s3://bkt/web-3\\s+\\d+(\\.\\d+)?\\s?[KM]?B\\s+\\S+\\s+-$`,
      ),
    );
    expect(r.stdout).not.toContain('20300101');
    expect(r.stderr.trim()).toBe(
      'cannot list copy s3://gone-bucket/x: the bucket does not exist (NoSuchBucket)',
    );
    expect(readdirSync(join(dir, 'backups')).length).toBeGreaterThan(0);
    // --json: one array whatever is configured, each archive saying where it is.
    const j = await cliAsync(['backup', 'list', '--json'], { cwd: dir });
    expect(j.code).toBe(1);
    const all = JSON.parse(j.stdout) as { name: string; where: string }[];
    expect(all.map((a) => [a.name, a.where])).toEqual([
      [local!.name, 'local'],
      [local!.name, 's3://bkt/web-3'],
    ]);
    expect(j.stderr.trim()).toBe(
      'cannot list copy s3://gone-bucket/x: the bucket does not exist (NoSuchBucket)',
    );
  }, 60_000);
});
