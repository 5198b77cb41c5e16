import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const STORE = resolve(import.meta.dirname, '..', '..', 'dist', 'store', 'sqlite', 'sqlite-store.js');

/**
 * In a fresh process (its private memory is the measure): a store over 45 MB of history reads
 * every page, then goes idle. Prints the private memory the read added, and what stays after
 * the idle housekeeping, in MB.
 */
const SCRIPT = `
import { readFileSync } from 'node:fs';
import { SqliteStore } from ${JSON.stringify(STORE)};
const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const file = process.argv[1] + '/caretaker.db';
const fill = new SqliteStore(file);
const insert = fill.database.prepare("INSERT INTO runs (task, host, trigger, scheduled_for, queued_at, status, attempt, output_tail, dry_run) VALUES ('t', 'h', 'schedule', 1, 1, 'success', 1, ?, 0)");
fill.database.transaction(() => { for (let i = 0; i < 100000; i++) insert.run('x'.repeat(400)); });
await fill.close();
const store = new SqliteStore(file, { deferCheckpoints: true });
const before = anon();
store.database.prepare('SELECT count(*), sum(length(output_tail)) FROM runs').get();
const read = anon() - before;
await store.housekeep();
console.log(JSON.stringify({ read, idle: anon() - before }));
await store.close();
`;

describe('the sqlite store’s page cache', () => {
  it('stays small while a daemon reads a big history, and is given back when it goes idle', () => {
    const dir = tempDir();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT, dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const { read, idle } = JSON.parse(r.stdout) as { read: number; idle: number };
    // better-sqlite3's own default (16 MB) would hold about 16 MB here, idle or not.
    expect(read).toBeLessThan(6);
    expect(idle).toBeLessThan(3);
  });
});
