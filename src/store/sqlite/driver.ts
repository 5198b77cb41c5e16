/**
 * The one door to SQLite for every part of caretaker (the store, the daemon and state-dir
 * locks, backups, db-maintain and db-retention): a small synchronous interface with two
 * implementations, Node's built-in `node:sqlite` and better-sqlite3.
 *
 * Which one: `node:sqlite` whenever it loads (unflagged from Node 22.13; 22.5–22.12 need
 * `--experimental-sqlite`), else better-sqlite3 — but never on Node 22 or later, where a
 * better-sqlite3 built for an older Node fails with an ABI error (NODE_MODULE_VERSION) and a
 * matching build needs a compiler. Both load lazily, on the first open, so a command that never
 * touches SQLite never pays for either.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { openBetterSqlite3 } from './better-sqlite3-driver.js';
import { openNodeSqlite, type NodeSqliteModule } from './node-sqlite-driver.js';
import type { SqliteDatabase, SqliteDriverName, SqliteOpenOptions } from './sqlite-database.js';
import { SqliteUnavailableError } from './sqlite-unavailable-error.js';

export type {
  DriverOpen,
  SqliteDatabase,
  SqliteDriverName,
  SqliteOpenOptions,
  SqliteRunResult,
  SqliteStatement,
  TransactionMode,
} from './sqlite-database.js';
export const SQLITE_DRIVERS: readonly SqliteDriverName[] = ['node:sqlite', 'better-sqlite3'];

const require = createRequire(import.meta.url);
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

type Loaded =
  { readonly ok: true; readonly module: unknown } | { readonly ok: false; readonly reason: string };
const loaded = new Map<SqliteDriverName, Loaded>();

/**
 * Loading `node:sqlite` prints "ExperimentalWarning: SQLite is an experimental feature" on
 * Node 22 (not on 24). That one warning is dropped while the module loads; every other warning
 * passes through, and nothing stays patched afterwards.
 */
function loadNodeSqlite(): Loaded {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    const name = typeof warning === 'string' ? type : warning.name;
    if (name === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature')) return;
    return (emitWarning as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return { ok: true, module: require('node:sqlite') as NodeSqliteModule };
  } catch {
    return {
      ok: false,
      reason:
        NODE_MAJOR >= 22
          ? `Node ${process.versions.node} has no built-in node:sqlite without --experimental-sqlite (Node 22.5 to 22.12); use Node 22.13 or later, or set NODE_OPTIONS=--experimental-sqlite`
          : `Node ${process.versions.node} has no built-in node:sqlite (it arrived in Node 22.5)`,
    };
  } finally {
    process.emitWarning = emitWarning;
  }
}

function loadBetterSqlite3(): Loaded {
  if (NODE_MAJOR >= 22) {
    return {
      ok: false,
      reason: `better-sqlite3 is not used on Node ${NODE_MAJOR} (node:sqlite is built in; a better-sqlite3 build for another Node fails with an ABI error)`,
    };
  }
  try {
    return { ok: true, module: require('better-sqlite3') as unknown };
  } catch (err) {
    const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND';
    return {
      ok: false,
      reason: missing
        ? `better-sqlite3 is not installed; on Node ${NODE_MAJOR} caretaker needs it: npm install better-sqlite3 (or use Node 22.13 or later, which has SQLite built in)`
        : `better-sqlite3 does not load: ${(err as Error).message.split('\n')[0]}; reinstall it (npm rebuild better-sqlite3) or use Node 22.13 or later`,
    };
  }
}

function load(name: SqliteDriverName): Loaded {
  let l = loaded.get(name);
  if (!l) {
    l = name === 'node:sqlite' ? loadNodeSqlite() : loadBetterSqlite3();
    loaded.set(name, l);
  }
  return l;
}

/** Whether a driver can be used on this Node, and if not, why (for messages and test skips). */
export function sqliteDriverStatus(
  name: SqliteDriverName,
): { readonly available: true } | { readonly available: false; readonly reason: string } {
  const l = load(name);
  return l.ok ? { available: true } : { available: false, reason: l.reason };
}

let chosen: SqliteDriverName | undefined;

/** The driver this process uses: node:sqlite when it loads, else better-sqlite3 (before Node 22). */
export function sqliteDriverName(): SqliteDriverName {
  if (chosen) return chosen;
  const node = load('node:sqlite');
  if (node.ok) return (chosen = 'node:sqlite');
  const better = load('better-sqlite3');
  if (better.ok) return (chosen = 'better-sqlite3');
  throw new SqliteUnavailableError(
    `SQLite is not available: ${NODE_MAJOR >= 22 ? (node as { reason: string }).reason : (better as { reason: string }).reason}`,
  );
}

/** Opens a SQLite database with the chosen driver (or `opts.driver`). */
export function openSqlite(path: string, opts: SqliteOpenOptions = {}): SqliteDatabase {
  const name = opts.driver ?? sqliteDriverName();
  const l = load(name);
  if (!l.ok) throw new SqliteUnavailableError(`SQLite driver ${name} is not available: ${l.reason}`);
  if ((opts.fileMustExist || opts.readonly || opts.immutable) && path !== ':memory:' && !existsSync(path)) {
    throw Object.assign(new Error(`unable to open database file: ${path} does not exist`), {
      code: 'SQLITE_CANTOPEN',
    });
  }
  return name === 'node:sqlite'
    ? openNodeSqlite(l.module as NodeSqliteModule, path, opts)
    : openBetterSqlite3(l.module, path, opts);
}

const PRIMARY_CODES: Readonly<Record<number, string>> = {
  1: 'SQLITE_ERROR',
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  16: 'SQLITE_EMPTY',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS',
  23: 'SQLITE_AUTH',
  24: 'SQLITE_FORMAT',
  25: 'SQLITE_RANGE',
  26: 'SQLITE_NOTADB',
};

/**
 * The primary SQLite result code of an error from either driver (`SQLITE_BUSY`, `SQLITE_FULL`,
 * …): better-sqlite3 names the extended code (`SQLITE_IOERR_WRITE`), node:sqlite gives the
 * extended number in `errcode` with `code: 'ERR_SQLITE_ERROR'`.
 */
export function sqliteErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  if (e == null || typeof e !== 'object') return undefined;
  if (typeof e.errcode === 'number') return PRIMARY_CODES[e.errcode & 0xff];
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) return e.code.split('_', 2).join('_');
  return undefined;
}
