/**
 * A fleet for the tests: daemons as real processes, each with its own directory and state dir,
 * all on one PostgreSQL schema of the test's own (dropped afterwards).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { BIN } from './cli.js';
import { PG_URL } from './services.js';
import { tempDir, waitUntil } from './tmp.js';

export interface FleetDaemon {
  readonly host: string;
  readonly dir: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A fresh schema name, dropped when the test finishes. */
export function fleetSchema(): string {
  const schema = `ct_fleet_${randomBytes(5).toString('hex')}`;
  onTestFinished(async () => {
    if (!process.env.CT_FLEET_DEBUG) await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return schema;
}

export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Writes the configuration of a host in root/name: the fleet's store plus `body` (lease:,
 * tasks:), under host name `host` (default: name).
 */
export function hostDir(root: string, name: string, schema: string, body: string, host = name): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1\nstore: ${PG_URL}\nstore_schema: ${schema}\nhost: ${host}\n${body}`,
  );
  return dir;
}

export function fleetRoot(): string {
  return tempDir('ct-fleet-');
}

/** Starts `caretaker start` in dir; resolves once the host has registered (it heartbeats). */
export async function startHost(
  dir: string,
  host: string,
  schema: string,
  opts: { waitRegistered?: boolean } = {},
): Promise<FleetDaemon> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const d: FleetDaemon = { host, dir, child, exited, output: () => output };
  // CT_FLEET_DEBUG=DIR keeps every daemon's output there (one file per start).
  if (process.env.CT_FLEET_DEBUG) {
    const file = join(process.env.CT_FLEET_DEBUG, `${schema}-${host}-${child.pid}.log`);
    mkdirSync(process.env.CT_FLEET_DEBUG, { recursive: true });
    child.on('exit', () => writeFileSync(file, output));
  }
  onTestFinished(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  });
  if (opts.waitRegistered !== false) {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`daemon ${host} exited: ${output}`);
        const rows = await sql<{ pid: number }>(
          `SELECT pid FROM "${schema}".hosts WHERE name = $1 AND stopped_at IS NULL`,
          [host],
        ).catch(() => []);
        return rows[0]?.pid === child.pid;
      },
      `host ${host} to register`,
      20_000,
    );
  }
  return d;
}
