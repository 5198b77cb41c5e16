import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readSidecar } from '../../src/backup/manifest.js';
import { cli } from '../support/cli.js';
import { needPostgres } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };

function psql(db: string, sql: string): string {
  return execFileSync('psql', ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-XAtqc', sql], {
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
}

const noPostgres = await needPostgres();

/** A database of its own for one test, dropped afterwards. */
async function withDatabase(fn: (db: string) => Promise<void>): Promise<void> {
  const db = `ct_backup_${randomBytes(4).toString('hex')}`;
  psql('test', `CREATE DATABASE ${db}`);
  try {
    await fn(db);
  } finally {
    psql('test', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
}

describe('backup of PostgreSQL', () => {
  it.skipIf(noPostgres)(
    'dumps with pg_dump, masks the password everywhere, and restores into another database',
    async () => {
      await withDatabase(async (db) => {
        psql(
          db,
          `CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL);
                INSERT INTO orders (item) SELECT 'item-' || g FROM generate_series(1, 500) g;`,
        );
        const dir = tempDir('ct-pg-');
        const password = `pw-${randomBytes(6).toString('hex')}`; // trust auth: accepted and ignored
        const url = `postgres://${PG.user}:${password}@${PG.host}:${PG.port}/${db}`;
        const ct = caretakerWith(
          dir,
          `  pg:\n    action: backup\n    with:\n      postgres: ['${url}']\n      dest: backups\n`,
        );
        let archive: string;
        try {
          const run = await runTask(ct, 'pg');
          expect(run.status, run.reason ?? '').toBe('success');
          expect(run.result?.summary).toMatch(/^backed up 1 database \(/);
          archive = run.result!.details!.archive as string;
          const dump = readSidecar(archive)!.entries.find((e) => e.kind === 'postgres')!;
          expect(dump.path).toBe(`postgres/${db}.dump`);
          expect(dump.source).toBe(`postgres://${PG.user}:***@${PG.host}:${PG.port}/${db}`);
          // The password is nowhere: not in the run record, the archive, its manifests, the history database.
          expect(JSON.stringify(run)).not.toContain(password);
          expect(gunzipSync(readFileSync(archive)).includes(password)).toBe(false);
          for (const f of readdirSync(join(dir, 'backups')))
            expect(readFileSync(join(dir, 'backups', f)).includes(password)).toBe(false);
          for (const f of readdirSync(join(dir, '.caretaker')).filter((n) =>
            statSync(join(dir, '.caretaker', n)).isFile(),
          ))
            expect(readFileSync(join(dir, '.caretaker', f)).includes(password)).toBe(false);
        } finally {
          await ct.close();
        }

        await withDatabase(async (target) => {
          const to = join(dir, 'restored');
          const r = cli(
            [
              'backup',
              'restore',
              archive,
              '--to',
              to,
              '--postgres',
              `postgres://${PG.user}@${PG.host}:${PG.port}/${target}`,
            ],
            {
              cwd: dir,
            },
          );
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).toContain(
            `restored ${to}/postgres/${db}.dump into postgres://${PG.user}@${PG.host}:${PG.port}/${target}`,
          );
          expect(psql(target, 'SELECT count(*), max(item) FROM orders')).toBe('500|item-99');
        });
      });
    },
  );

  it.skipIf(noPostgres)(
    'fails with a clear message when pg_dump is not on PATH, and never prints the URL password',
    async () => {
      const dir = tempDir('ct-pg-');
      const password = `pw-${randomBytes(6).toString('hex')}`;
      caretakerWith(
        dir,
        `  pg:\n    action: backup\n    with:\n      postgres: { url_env: APP_DB_URL }\n      dest: backups\n`,
      );
      const env = {
        PATH: '/nonexistent',
        APP_DB_URL: `postgres://app:${password}@${PG.host}:${PG.port}/nope`,
      };
      const r = cli(['run-task', 'pg', '--wait'], { cwd: dir, env });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('pg_dump was not found on PATH; install the PostgreSQL client tools');
      expect(r.stdout + r.stderr).not.toContain(password);
      const missing = cli(['run-task', 'pg', '--wait'], { cwd: dir, env: { APP_DB_URL: '' } });
      expect(missing.stdout).toContain('postgres[0]: environment variable APP_DB_URL is not set');
    },
  );
});
