/** The audit table refuses updates and deletes in the database itself, on SQLite and PostgreSQL. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();

const row = {
  at: 1,
  actor: 'ci',
  source: '127.0.0.1',
  action: 'run',
  target: 'backup',
  outcome: 'ok' as const,
  detail: null,
};

describe('the audit log is append-only', () => {
  it('SQLite: UPDATE and DELETE of an audit row are refused; the row stays as written', async () => {
    const store = new SqliteStore(join(tempDir('ct-audit-'), 'caretaker.db'));
    try {
      const written = await store.appendAudit(row);
      expect(() => store.database.exec(`UPDATE audit SET outcome = 'refused'`)).toThrow(/append-only/);
      expect(() => store.database.exec(`DELETE FROM audit`)).toThrow(/append-only/);
      expect(await store.listAudit({ limit: 10 })).toEqual([written]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(noPostgres !== undefined)(
    'PostgreSQL: UPDATE and DELETE of an audit row are refused',
    async () => {
      const schema = `ct_test_${randomBytes(6).toString('hex')}`;
      const store = await PgStore.open({ url: PG_URL, schema });
      try {
        const written = await store.appendAudit(row);
        await expect(store.sql(`UPDATE $S.audit SET outcome = 'refused'`)).rejects.toThrow(/append-only/);
        await expect(store.sql(`DELETE FROM $S.audit`)).rejects.toThrow(/append-only/);
        expect(await store.listAudit({ limit: 10 })).toEqual([written]);
      } finally {
        await store.close();
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      }
    },
  );
});
