/**
 * Opens the store a configuration names: the SQLite file, or the PostgreSQL schema (whose
 * module, and `pg`, load only then). The one place that chooses, for the facade, backup restores
 * and the history readers.
 */
import type { Store } from './types.js';

/** What `store:` resolves to (config/types.ts StoreConfig has this shape). */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

export interface OpenStoreOptions {
  /** Only read (SQLite: a missing file reads as empty history, nothing is created). */
  readonly readonly?: boolean;
  /** SQLite: checkpoint only when idle (see SqliteStoreOptions). */
  readonly deferCheckpoints?: boolean;
}

export async function openStore(spec: StoreSpec, opts: OpenStoreOptions = {}): Promise<Store> {
  if (spec.kind === 'postgres') {
    const { PgStore } = await import('./postgres/pg-store.js');
    return PgStore.open({ url: spec.url, schema: spec.schema });
  }
  const { SqliteStore } = await import('./sqlite/sqlite-store.js');
  return new SqliteStore(spec.path, { readonly: opts.readonly, deferCheckpoints: opts.deferCheckpoints });
}
