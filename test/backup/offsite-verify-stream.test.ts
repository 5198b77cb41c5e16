/**
 * `backup verify s3://…/NAME` checks the copy as it downloads: no temp file (it works with no
 * writable temp dir at all), every entry's checksum against the sidecar, and a copy damaged in
 * the bucket is told from one that was written damaged. The S3 server is s3rver in this process
 * on loopback (no real S3 server can run on this machine).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { tempDir } from '../support/tmp.js';

let servers: LoopbackS3[] = [];
beforeAll(() => Object.assign(process.env, S3_ENV));
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function project(compression: string): Promise<{ dir: string; s: LoopbackS3; t: S3Target }> {
  const dir = tempDir('ct-verify-stream-');
  const s = await startS3(join(dir, 's3'), ['bkt']);
  servers.push(s);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data/hello.txt'), 'hello, this is the file whose bytes change\n'.repeat(20));
  writeFileSync(join(dir, 'data/other.txt'), 'other\n');
  const copy = `{ to: 's3://bkt/web-3', endpoint: '${s.endpoint}', region: us-east-1, path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET }`;
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1\nstate_dir: .caretaker\ntasks:\n  bk:\n    action: backup\n    with: { paths: [data], dest: backups, compression: ${compression}, copies: [${copy}] }\n`,
  );
  const run = await cliAsync(['run-task', 'bk', '--wait'], { cwd: dir });
  expect(run.code, run.stderr).toBe(0);
  const t = new S3Target(
    {
      to: 's3://bkt/web-3',
      endpoint: s.endpoint,
      path_style: true,
      access_key_env: 'TEST_S3_KEY',
      secret_key_env: 'TEST_S3_SECRET',
    },
    {},
  );
  return { dir, s, t };
}

describe('backup verify of a copy, as it downloads', () => {
  it('needs no temp dir, and finds an entry written damaged (its sidecar agreeing with the damaged bytes)', async () => {
    const { dir, t } = await project('none');
    const [a] = await listRemote(t);
    const url = `s3://bkt/web-3/${a!.name}`;
    // No temp dir to write to: a verify that downloaded into one could not run.
    const noTmp = { TMPDIR: join(dir, 'no-such-dir') };
    const ok = await cliAsync(['backup', 'verify', url], { cwd: dir, env: noTmp });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^ok +${url.replace(/[./]/g, '\\$&')} +\\d+ entries, `));

    // A byte of hello.txt changed inside the (uncompressed) tar, and the sidecar's archive
    // checksum and size made to agree: the stored object is what the sidecar says, but an entry
    // is not what the manifest says.
    const tar = await t.getText(a!.object);
    const at = tar.indexOf('hello, this is the file');
    expect(at).toBeGreaterThan(0);
    tar[at] = 'H'.charCodeAt(0);
    const sidecarName = `${a!.name}.manifest.json`;
    const sidecar = JSON.parse((await t.getText(sidecarName)).toString('utf8')) as {
      archive: { sha256: string; size: number };
    };
    sidecar.archive.sha256 = sha256(tar);
    await t.put(a!.object, tar);
    await t.put(sidecarName, Buffer.from(JSON.stringify(sidecar)));
    const bad = await cliAsync(['backup', 'verify', url, '--json'], { cwd: dir, env: noTmp });
    expect(bad.code).toBe(1);
    const [r] = JSON.parse(bad.stdout) as { ok: boolean; lookedInside: boolean; problems: string[] }[];
    expect(r).toMatchObject({ ok: false, lookedInside: true });
    expect(r!.problems.join('\n')).toMatch(/corrupt: .*data\/hello\.txt: SHA-256 mismatch/);
    t.close();
  }, 60_000);

  it('tells a copy damaged in the bucket (its checksum) from a damaged archive, even when reading breaks off', async () => {
    const { dir, t } = await project('6');
    const [a] = await listRemote(t);
    const url = `s3://bkt/web-3/${a!.name}`;
    const gz = await t.getText(a!.object);
    // Bytes early in the deflate data: gunzip fails there, long before the end of the object.
    for (let i = 30; i < 60; i++) gz[i] = gz[i]! ^ 0x55;
    await t.put(a!.object, gz);
    const bad = await cliAsync(['backup', 'verify', url], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`FAILED  ${url}`);
    expect(bad.stdout).toContain('the stored object does not match its SHA-256');
    t.close();
  }, 60_000);
});
