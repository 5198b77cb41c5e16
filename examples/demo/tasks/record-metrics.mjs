// A custom executor: caretaker calls the default export with the task's `config` and a context
// (ctx.resolvePath, ctx.dryRun, ctx.signal, ctx.clock, ctx.logger...).
import { statSync } from 'node:fs';

// SQLite as this Node has it: built in from Node 22.5 (`node:sqlite`), else better-sqlite3.
const openDatabase = await import('node:sqlite').then(
  ({ DatabaseSync }) =>
    (path) =>
      new DatabaseSync(path),
  async () => {
    const { default: Database } = await import('better-sqlite3');
    return (path) => new Database(path);
  },
);

export default async function recordMetrics(config, ctx) {
  let bytes = 0;
  try {
    bytes = statSync(ctx.resolvePath(config.log)).size;
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  if (ctx.dryRun) return { success: true, summary: `would record log size ${bytes} bytes` };
  const db = openDatabase(ctx.resolvePath(config.db));
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, at TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL)',
    );
    db.prepare('INSERT INTO samples (at, name, value) VALUES (?, ?, ?)').run(
      new Date(ctx.clock.now()).toISOString(),
      'log_bytes',
      bytes,
    );
    const rows = db.prepare('SELECT count(*) AS n FROM samples').get().n;
    return {
      success: true,
      summary: `log is ${bytes} bytes; ${rows} samples kept`,
      details: { bytes, rows },
    };
  } finally {
    db.close();
  }
}
