/**
 * A PostgreSQL restore that pg_restore refuses is one line: pg_restore's first error, not the
 * SQL it ran over several lines; into a database that already holds the dump's tables it says
 * that nothing was loaded and what to do.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { needPostgres, testDatabase } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();

describe.skipIf(noPostgres !== undefined)('backup restore --to postgres:// when pg_restore fails', () => {
  it('is one line: the first error, and for tables already there, what to do', async () => {
    const db = await testDatabase();
    await db.client.query(
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item' FROM generate_series(1, 50) g",
    );
    const dir = tempDir('ct-pg-restore-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/a.txt'), 'a\n');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\nstate_dir: .caretaker\ntasks:\n  pg: { action: backup, with: { paths: [data], postgres: ['${db.url}'], dest: backups } }\n`,
    );
    expect(cli(['run-task', 'pg', '--wait'], { cwd: dir }).code).toBe(0);
    const name = (
      JSON.parse(cli(['backup', 'list', '--json'], { cwd: dir }).stdout) as { name: string }[]
    )[0]!.name;

    // The same database: its table is there.
    const same = cli(['backup', 'restore', name, '--to', db.url], { cwd: dir });
    expect(same.code).toBe(1);
    expect(same.stderr.trim().split('\n')).toHaveLength(1);
    expect(same.stderr).toMatch(
      /^caretaker: pg_restore of postgres:\/\/\S+ exited with 1: could not execute query: ERROR: +relation "orders" already exists; nothing was loaded: restore into an empty database, or add --force/,
    );
    expect(same.stderr).not.toContain('Command was');
    // --force drops and replaces what the dump holds.
    await db.client.query('DELETE FROM orders');
    expect(cli(['backup', 'restore', name, '--to', db.url, '--force'], { cwd: dir }).code).toBe(0);
    expect((await db.client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(50);

    // A database that does not exist: pg_restore's connection error, on one line.
    const missing = db.url.replace(/\/[^/]+$/, '/ct_no_such_database');
    const none = cli(['backup', 'restore', name, '--to', missing], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(
      /exited with 1: connection to server .* database "ct_no_such_database" does not exist$/m,
    );
  });
});
