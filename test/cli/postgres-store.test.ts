/**
 * A configuration whose history is on PostgreSQL, as a person uses it through the CLI: a
 * daemon-less `run-task --wait` records the run in the schema, `history --json` reads it back,
 * and `store_env:` gives the URL from the environment without it ever being printed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunRecord } from '../../src/store/types.js';
import { cli } from '../support/cli.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();

async function dropSchemaAfter(schema: string): Promise<void> {
  onTestFinished(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });
}

async function runsInSchema(schema: string): Promise<{ task: string; status: string }[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query(`SELECT task, status FROM "${schema}".runs ORDER BY id`)).rows;
  } finally {
    await c.end();
  }
}

describe.skipIf(noPostgres !== undefined)('store: postgres:// through the CLI', () => {
  it('run-task --wait records the run on PostgreSQL and history --json shows it', async () => {
    const schema = `ct_cli_${randomBytes(5).toString('hex')}`;
    await dropSchemaAfter(schema);
    const dir = tempDir('ct-pg-cli-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\nstore: ${PG_URL}\nstore_schema: ${schema}\ntasks:\n  hello: { action: shell, with: { command: "echo hi from pg" } }\n`,
    );
    const v = cli(['validate'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
    const run = cli(['run-task', 'hello', '--wait'], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    // Nothing went to a SQLite file: the run is in the schema.
    expect(existsSync(join(dir, '.caretaker', 'caretaker.db'))).toBe(false);
    expect(await runsInSchema(schema)).toEqual([{ task: 'hello', status: 'success' }]);
    const h = cli(['history', '--json'], { cwd: dir });
    expect(h.code, h.stderr).toBe(0);
    const runs = JSON.parse(h.stdout) as RunRecord[];
    expect(runs.map((r) => [r.task, r.status])).toEqual([['hello', 'success']]);
  });

  it('store_env: the URL comes from the environment and its password is never printed', async () => {
    const schema = `ct_cli_${randomBytes(5).toString('hex')}`;
    await dropSchemaAfter(schema);
    const dir = tempDir('ct-pg-cli-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\nstore_env: CT_STORE_URL\nstore_schema: ${schema}\ntasks:\n  hello: { action: shell, with: { command: "echo pw is s3cret-pw" } }\n`,
    );
    // An unreachable port: the open fails (an outage, exit 1: only a daemon waits for the server),
    // with one line that masks the password.
    const bad = cli(['run-task', 'hello', '--wait'], {
      cwd: dir,
      env: { ...process.env, CT_STORE_URL: 'postgres://caretaker:s3cret-pw@127.0.0.1:1/test' },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'caretaker: store postgres://caretaker:***@127.0.0.1:1/test unreachable (ECONNREFUSED)',
    );
    expect(bad.stderr + bad.stdout).not.toContain('s3cret-pw');
    expect(bad.stderr).toContain('postgres://caretaker:***@127.0.0.1:1/test');
    const url = new URL(PG_URL);
    url.password = 's3cret-pw';
    const good = cli(['run-task', 'hello', '--wait'], {
      cwd: dir,
      env: { ...process.env, CT_STORE_URL: url.toString() },
    });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr + good.stdout).not.toContain('s3cret-pw');
    expect(await runsInSchema(schema)).toEqual([{ task: 'hello', status: 'success' }]);
    // A task that prints the store's password records it masked: it is a secret like any *_env.
    const h = cli(['history', '--json'], { cwd: dir, env: { ...process.env, CT_STORE_URL: url.toString() } });
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).not.toContain('s3cret-pw');
    expect((JSON.parse(h.stdout) as RunRecord[])[0]!.outputTail).toContain('pw is ***');
  });

  it('records a run whose output holds a NUL byte (PostgreSQL text cannot): it reads back as U+FFFD', async () => {
    const schema = `ct_cli_${randomBytes(5).toString('hex')}`;
    await dropSchemaAfter(schema);
    const dir = tempDir('ct-pg-cli-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\nstore: ${PG_URL}\nstore_schema: ${schema}\ntasks:\n  nul: { action: shell, with: { command: "printf 'a\\\\000b'" } }\n`,
    );
    const run = cli(['run-task', 'nul', '--wait'], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const h = cli(['history', '--json'], { cwd: dir });
    expect((JSON.parse(h.stdout) as RunRecord[])[0]).toMatchObject({
      status: 'success',
      outputTail: 'a\uFFFDb',
    });
  });
});
