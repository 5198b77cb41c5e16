/**
 * What an interrupted S3 upload leaves, and who clears it: real backup runs, the built CLI's
 * `backup list`, and s3rver on loopback as the S3 stand-in (no real S3 server can run here).
 * s3rver itself cannot list or abort multipart uploads; s3rver-multipart.ts adds the two
 * operations on s3rver's own store of parts so that the abort code runs against HTTP.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';
import { addMultipartListing, pendingUploads } from './s3rver-multipart.js';

let servers: LoopbackS3[] = [];
beforeAll(() => Object.assign(process.env, S3_ENV));
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
});

async function server(root: string, port = 0, multipart = true): Promise<LoopbackS3> {
  const s = await startS3(root, ['bkt'], port);
  servers.push(s);
  if (multipart) addMultipartListing(s, root);
  return s;
}

function target(s: LoopbackS3, partMiB = 5): S3Target {
  return new S3Target(
    {
      to: 's3://bkt/web',
      endpoint: s.endpoint,
      path_style: true,
      access_key_env: 'TEST_S3_KEY',
      secret_key_env: 'TEST_S3_SECRET',
    },
    { partSize: partMiB * 1024 * 1024 },
  );
}

describe('an interrupted multipart upload to S3', () => {
  it('counts for nothing in backup list, and the next run aborts the upload it left', async () => {
    const dir = tempDir();
    const root = join(dir, 's3');
    let s = await server(root);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/big.bin'), randomBytes(12 * 1024 * 1024)); // three parts of 5 MiB
    let killed = false;
    s.server.on('request', (req) => {
      if (!killed && /partNumber=2/.test(req.url ?? '')) {
        killed = true;
        void s.kill(); // a crash of the server mid-upload: the client cannot abort it either
      }
    });
    const copy = `{ to: 's3://bkt/web', endpoint: '${s.endpoint}', region: us-east-1, path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET, part_size_mb: 5 }`;
    const ct = caretakerWith(
      dir,
      `  bk:\n    action: backup\n    with:\n      paths: [data]\n      dest: backups\n      compression: 1\n      copies:\n        - ${copy}\n`,
    );
    try {
      const cut = await runTask(ct, 'bk');
      expect(killed).toBe(true);
      expect(cut.status).toBe('failed');
      s = await server(root, s.port); // back, with the same data
      const left = pendingUploads(root, 'bkt');
      expect(left).toHaveLength(1); // the parts of the cut upload are still on the server
      expect(left[0]!.key).toMatch(/^web\/bk-\d{8}T\d{6}Z\.tar\.gz$/);

      const listed = await cliAsync(['backup', 'list', '--json'], { cwd: dir });
      expect(listed.code, listed.stderr).toBe(0);
      const rows = JSON.parse(listed.stdout) as { name: string; where: string }[];
      expect(rows.filter((r) => r.where !== 'local')).toEqual([]); // no good archive on the copy
      expect(rows.filter((r) => r.where === 'local')).toHaveLength(1); // the local one is kept

      const next = await runTask(ct, 'bk');
      expect(next.status, next.result?.summary ?? next.reason ?? '').toBe('success');
      expect(pendingUploads(root, 'bkt')).toEqual([]); // aborted: its parts are gone
      const copies = next.result!.details!.copies as { leftovers: number }[];
      expect(copies[0]!.leftovers).toBe(1);
      const after = JSON.parse((await cliAsync(['backup', 'list', '--json'], { cwd: dir })).stdout) as {
        name: string;
        where: string;
      }[];
      expect(after.filter((r) => r.where === 's3://bkt/web').map((r) => r.name)).toEqual([
        after.find((r) => r.where === 'local')!.name,
      ]);
    } finally {
      await ct.close();
    }
  }, 90_000);

  it('an upload aborted through its AbortSignal aborts its multipart upload at once and leaves nothing listed', async () => {
    const dir = tempDir();
    const root = join(dir, 's3');
    const s = await server(root);
    const t = target(s);
    const ac = new AbortController();
    let parts = 0;
    s.server.on('request', (req) => {
      if (/partNumber=\d+/.test(req.url ?? '') && ++parts === 2) ac.abort();
    });
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 16; i++) yield randomBytes(1024 * 1024);
      })(),
    );
    await expect(t.upload('bk-20260101T000000Z.tar.gz', body, ac.signal)).rejects.toThrow();
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(pendingUploads(root, 'bkt')).toEqual([]);
    expect(await listRemote(t)).toEqual([]);
    expect(await t.list()).toEqual([]);
    t.close();
  }, 60_000);

  it('on a server that cannot list multipart uploads (s3rver as it is), the clean-up says so by returning undefined', async () => {
    const dir = tempDir();
    const s = await server(join(dir, 's3'), 0, false);
    const t = target(s);
    expect(await t.abortStaleUploads('bk-', Date.now())).toBeUndefined();
    t.close();
  }, 30_000);
});
