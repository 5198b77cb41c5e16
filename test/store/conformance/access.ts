/** The access role (AccessStore): API tokens (hashes only) and the append-only audit log. */
import { describe, expect, it } from 'vitest';
import { TokenExistsError } from '../../../src/store/token-exists-error.js';
import type { AccessStore, AuditRecord, NewToken } from '../../../src/store/types.js';
import { DAY, T0, fresh, type StoreFactory } from './harness.js';

const token = (over: Partial<NewToken> = {}): NewToken => ({
  name: 'ci',
  role: 'operator',
  hash: 'a'.repeat(64),
  createdAt: T0,
  expiresAt: null,
  tasks: null,
  ...over,
});

const entry = (over: Partial<Omit<AuditRecord, 'id'>> = {}): Omit<AuditRecord, 'id'> => ({
  at: T0,
  actor: 'ci',
  source: '127.0.0.1',
  action: 'run',
  target: 'backup',
  outcome: 'ok',
  detail: null,
  ...over,
});

export function describeAccessConformance(name: string, make: StoreFactory<AccessStore>): void {
  describe(`access role: ${name}`, () => {
    it('stores a token and finds it by its hash, with every field as given', async () => {
      const store = await fresh(make);
      const made = await store.insertToken(
        token({ expiresAt: T0 + 30 * DAY, tasks: ['backup', 'rotate-logs'] }),
      );
      expect(made).toEqual({
        ...token({ expiresAt: T0 + 30 * DAY, tasks: ['backup', 'rotate-logs'] }),
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(await store.tokenByHash('a'.repeat(64))).toEqual(made);
      expect(await store.tokenByHash('b'.repeat(64))).toBeUndefined();
    });

    it('refuses a second token of the same name, also after the first was revoked', async () => {
      const store = await fresh(make);
      await store.insertToken(token());
      await expect(store.insertToken(token({ hash: 'b'.repeat(64) }))).rejects.toThrow(TokenExistsError);
      await store.revokeToken('ci', T0 + 1);
      await expect(store.insertToken(token({ hash: 'c'.repeat(64) }))).rejects.toThrow(/exists already/);
      expect((await store.listTokens()).map((t) => t.hash)).toEqual(['a'.repeat(64)]);
    });

    it('lists tokens by name, revoked ones too', async () => {
      const store = await fresh(make);
      await store.insertToken(token({ name: 'web', role: 'viewer', hash: '1'.repeat(64) }));
      await store.insertToken(token({ name: 'admin-bob', role: 'admin', hash: '2'.repeat(64) }));
      await store.insertToken(token({ name: 'ci', hash: '3'.repeat(64) }));
      await store.revokeToken('web', T0 + 5);
      const list = await store.listTokens();
      expect(list.map((t) => [t.name, t.role, t.revokedAt])).toEqual([
        ['admin-bob', 'admin', null],
        ['ci', 'operator', null],
        ['web', 'viewer', T0 + 5],
      ]);
    });

    it('records the latest use, never moving it back', async () => {
      const store = await fresh(make);
      await store.insertToken(token());
      await store.touchToken('ci', T0 + 60_000);
      await store.touchToken('ci', T0 + 30_000);
      expect((await store.tokenByHash('a'.repeat(64)))?.lastUsedAt).toBe(T0 + 60_000);
      await store.touchToken('nobody', T0);
    });

    it('revokes once: a second revoke keeps the first instant; an unknown name is undefined', async () => {
      const store = await fresh(make);
      await store.insertToken(token());
      expect((await store.revokeToken('ci', T0 + 10))?.revokedAt).toBe(T0 + 10);
      expect((await store.revokeToken('ci', T0 + 20))?.revokedAt).toBe(T0 + 10);
      expect(await store.revokeToken('nope', T0)).toBeUndefined();
    });

    it('appends audit rows and lists them newest first, since an instant, up to a limit', async () => {
      const store = await fresh(make);
      const a = await store.appendAudit(entry());
      const b = await store.appendAudit(
        entry({ at: T0 + DAY, actor: 'unix:ops', source: 'socket', action: 'reload', target: null }),
      );
      const c = await store.appendAudit(
        entry({ at: T0 + 2 * DAY, outcome: 'refused', detail: 'role viewer may not run', actor: 'web' }),
      );
      expect(b.id).toBeGreaterThan(a.id);
      expect(c).toEqual({
        ...entry({ at: T0 + 2 * DAY, outcome: 'refused', detail: 'role viewer may not run', actor: 'web' }),
        id: c.id,
      });
      expect((await store.listAudit({ limit: 10 })).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.listAudit({ since: T0 + DAY, limit: 10 })).map((r) => r.action)).toEqual([
        'run',
        'reload',
      ]);
      expect(await store.listAudit({ limit: 1 })).toEqual([c]);
    });

    it('keeps text exactly (quotes, newlines, non-ASCII)', async () => {
      const store = await fresh(make);
      const detail = `task "it's" \n é ✓`;
      const r = await store.appendAudit(entry({ detail, target: "o'neil" }));
      expect((await store.listAudit({ limit: 1 }))[0]).toEqual(r);
      expect(r.detail).toBe(detail);
    });
  });
}
