/**
 * Restoring a PostgreSQL dump from a copy: `backup restore s3://…/NAME --to DIR --postgres URL`
 * and `--to URL` (no files kept). A real backup of a real database (the machine's PostgreSQL,
 * a database per test, dropped afterwards), an age-encrypted copy on s3rver (no real S3 server
 * can run here: see test/support/s3rver.ts) and the built CLI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRemote } from '../../src/backup/offsite.js';
import { S3Target } from '../../src/backup/s3-target.js';
import { cliAsync } from '../support/cli.js';
import { S3_ENV, startS3, type LoopbackS3 } from '../support/s3rver.js';
import { needPostgres } from '../support/services.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

/** What a restore left in a temp dir, but for the CLI's own compile cache (Node 22 keeps it there). */
const leftIn = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('caretaker-compile-cache-'));

const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };
const noPostgres = await needPostgres();
const noAge =
  spawnSync('age-keygen', ['--help']).status !== null
    ? undefined
    : skipBecause('restore of an encrypted copy into PostgreSQL', 'the age CLI is not installed', {
        requiredUnderCi: true,
      });

function psql(db: string, sql: string): string {
  return execFileSync('psql', ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-XAtqc', sql], {
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
}

const made: string[] = [];
function database(): string {
  const db = `ct_copy_${randomBytes(4).toString('hex')}`;
  psql('test', `CREATE DATABASE ${db}`);
  made.push(db);
  return db;
}

let servers: LoopbackS3[] = [];
beforeAll(() => Object.assign(process.env, S3_ENV));
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
  for (const db of made.splice(0)) psql('test', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
});

describe.skipIf(noPostgres ?? noAge)('backup restore from a copy into PostgreSQL', () => {
  it('--postgres URL and --to URL load the dump of an encrypted S3 copy; a bad URL fails before any download', async () => {
    const dir = tempDir('ct-copy-pg-');
    const s = await startS3(join(dir, 's3'), ['bkt'], 0);
    servers.push(s);
    const source = database();
    psql(
      source,
      `CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL);
       INSERT INTO orders (item) SELECT 'item-' || g FROM generate_series(1, 300) g;`,
    );
    execFileSync('age-keygen', ['-o', join(dir, 'key.txt')], { stdio: 'ignore' });
    const pub = execFileSync('age-keygen', ['-y', join(dir, 'key.txt')], { encoding: 'utf8' }).trim();
    const copy = `{ to: 's3://bkt/pg', endpoint: '${s.endpoint}', region: us-east-1, path_style: true, access_key_env: TEST_S3_KEY, secret_key_env: TEST_S3_SECRET }`;
    const ct = caretakerWith(
      dir,
      `  pg:\n    action: backup\n    with:\n      postgres: ['postgres://${PG.user}@${PG.host}:${PG.port}/${source}']\n      dest: backups\n      copies:\n        - ${copy}\n      encrypt: { recipients: ['${pub}'], identity_file: key.txt }\n`,
    );
    try {
      const run = await runTask(ct, 'pg');
      expect(run.status, run.result?.summary ?? run.reason ?? '').toBe('success');
    } finally {
      await ct.close();
    }
    const t = new S3Target({
      to: 's3://bkt/pg',
      endpoint: s.endpoint,
      path_style: true,
      access_key_env: 'TEST_S3_KEY',
      secret_key_env: 'TEST_S3_SECRET',
    });
    const [a] = await listRemote(t);
    t.close();
    expect(a!.encrypted).toBe(true);
    const url = `s3://bkt/pg/${a!.name}`;
    const gets: string[] = [];
    s.server.on('request', (req) => {
      if (req.method === 'GET' && (req.url ?? '').split('?')[0]!.endsWith(`/${a!.name}.age`))
        gets.push(req.url!);
    });

    // --to DIR --postgres URL: the files in DIR and the dump loaded.
    const first = database();
    const withFiles = await cliAsync(
      [
        'backup',
        'restore',
        url,
        '--to',
        'out',
        '--postgres',
        `postgres://${PG.user}@${PG.host}:${PG.port}/${first}`,
      ],
      { cwd: dir },
    );
    expect(withFiles.stderr).toBe('');
    expect(withFiles.code).toBe(0);
    expect(withFiles.stdout).toContain(
      `restored ${join(dir, 'out')}/postgres/${source}.dump into postgres://${PG.user}@${PG.host}:${PG.port}/${first}`,
    );
    expect(existsSync(join(dir, 'out/postgres', `${source}.dump`))).toBe(true);
    expect(psql(first, 'SELECT count(*), max(item) FROM orders')).toBe('300|item-99');

    // --to URL: the dump loaded, the files extracted into a temp dir that is gone afterwards.
    const second = database();
    const scratch = join(dir, 'tmp');
    mkdirSync(scratch);
    const only = await cliAsync(
      ['backup', 'restore', url, '--to', `postgres://${PG.user}@${PG.host}:${PG.port}/${second}`, '--json'],
      { cwd: dir, env: { TMPDIR: scratch } },
    );
    expect(only.stderr).toBe('');
    expect(only.code).toBe(0);
    const j = JSON.parse(only.stdout) as { to: string; postgres: { url: string } };
    expect(j.to).toBe(`postgres://${PG.user}@${PG.host}:${PG.port}/${second}`);
    expect(psql(second, 'SELECT count(*) FROM orders')).toBe('300');
    expect(leftIn(scratch)).toEqual([]); // the download and the extracted files removed
    const text = await cliAsync(
      ['backup', 'restore', url, '--to', `postgres://${PG.user}@${PG.host}:${PG.port}/${second}`, '--force'],
      { cwd: dir, env: { TMPDIR: scratch } },
    );
    expect(text.stderr).toBe('');
    expect(text.stdout.split('\n')[0]).toBe(
      `restored ${source}.dump from ${a!.name} into postgres://${PG.user}@${PG.host}:${PG.port}/${second}`,
    );
    expect(psql(second, 'SELECT count(*) FROM orders')).toBe('300'); // --force: replaced, not doubled

    // A database that cannot be reached: exit 1 naming it, and no word of files in a dir now gone.
    const down = await cliAsync(
      ['backup', 'restore', url, '--to', `postgres://${PG.user}@${PG.host}:1/nowhere`],
      { cwd: dir, env: { TMPDIR: scratch } },
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^caretaker: pg_restore of postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere exited with 1/,
    );
    expect(down.stderr).not.toContain('files restored into');
    expect(leftIn(scratch)).toEqual([]);

    // Bad input: one line, exit 2, and the copy was not even downloaded.
    const before = gets.length;
    expect(before).toBe(4); // each restore above downloaded the archive once
    const bad = await cliAsync(['backup', 'restore', url, '--to', 'out2', '--postgres', 'mysql://x/y'], {
      cwd: dir,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'caretaker: --postgres: expected a postgres:// or postgresql:// URL, got a mysql:// URL',
    );
    const both = await cliAsync(
      ['backup', 'restore', url, '--to', `postgres://${PG.host}/x`, '--postgres', `postgres://${PG.host}/y`],
      { cwd: dir },
    );
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    // A mistyped scheme in --to is not a directory named "postgress:" with the files in it.
    const typo = await cliAsync(
      ['backup', 'restore', url, '--to', `postgress://${PG.user}:hunter2@${PG.host}:${PG.port}/${second}`],
      { cwd: dir },
    );
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe(
      'caretaker: --to: expected a directory or a postgres:// URL, got a postgress:// URL (nothing was downloaded or restored)',
    );
    expect(existsSync(join(dir, 'postgress:'))).toBe(false);
    expect(gets.length).toBe(before);
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  }, 90_000);
});
