/**
 * The daemon's state dir on a real, small filesystem (an 8 MiB tmpfs; mounting one needs root,
 * as in CI — elsewhere the test says why it is skipped, and test/engine/store-backlog.test.ts
 * covers the backlog on a capped database). The disk fills up while the daemon schedules: it
 * keeps running tasks and answering, says once on stderr (and once through the channels) what it
 * cannot record, writes the backlog when space returns, and obeys SIGTERM, full or not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRecord } from '../../src/store/types.js';
import { BIN, cli } from '../support/cli.js';
import { httpServer } from '../support/loopback-servers.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { fillUp } from '../support/full-disk.js';

function whyNoTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = spawnSync('mount', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `mount is not available: ${probe.error.message}`;
  return undefined;
}

function smallFilesystem(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs failed: ${r.stderr.trim()}`);
  onTestFinished(() => void spawnSync('umount', ['-l', dir]));
}

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

async function startDaemon(dir: string): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  await waitUntil(() => findDaemon(join(dir, 'state')), 'the daemon to answer', 15_000);
  return { child, exited, stderr: () => stderr };
}

async function runs(dir: string): Promise<RunRecord[]> {
  const store = new SqliteStore(join(dir, 'state', 'caretaker.db'), { readonly: true });
  try {
    return await store.listRuns({ limit: 1000 });
  } finally {
    await store.close();
  }
}

const ticks = (dir: string) =>
  existsSync(join(dir, 'ticks.txt'))
    ? readFileSync(join(dir, 'ticks.txt'), 'utf8').split('\n').length - 1
    : 0;

const count = (text: string, needle: string) => text.split(needle).length - 1;

async function setup() {
  const dir = tempDir('ct-fulldisk-');
  smallFilesystem(join(dir, 'state'));
  const hook = await httpServer({ '/hook': (_req, res) => res.writeHead(204).end() });
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1
state_dir: ./state
notify:
  - { type: webhook, url: "${hook.url}/hook", on: [failure] }
tasks:
  tick:
    action: shell
    schedule: "every 1s"
    with: { command: "echo tick >> ticks.txt; head -c 20000 /dev/zero | tr '\\\\0' x" }
  by-hand: { action: shell, with: { command: "echo by hand" } }
`,
  );
  const daemon = await startDaemon(dir);
  await waitUntil(async () => (await runs(dir)).some((r) => r.status === 'success'), 'a recorded tick');
  fillUp(join(dir, 'state', 'filler'));
  await waitUntil(() => daemon.stderr().includes('the history cannot be written'), 'the full-disk line');
  return { dir, hook, daemon };
}

const tmpfsReason = whyNoTmpfs();
if (tmpfsReason) console.warn(`[skipped] daemon on a full disk: ${tmpfsReason}`);

describe.skipIf(tmpfsReason !== undefined)('daemon whose state disk fills up (real tmpfs)', () => {
  it('keeps scheduling and answering, tells once, records the backlog when space returns, stops on SIGTERM', async () => {
    const { dir, hook, daemon } = await setup();
    const atFull = ticks(dir);
    await waitUntil(() => ticks(dir) >= atFull + 3, 'ticks to go on while the disk is full');

    const status = cli(['status'], { cwd: dir });
    expect(status.stdout).toMatch(/^daemon: running/);
    const byHand = cli(['run-task', 'by-hand', '--wait'], { cwd: dir });
    expect(byHand.code).toBe(0);
    expect(byHand.stdout).toMatch(
      /^run #-\d+ \(not in the history yet: recorded once the store takes writes again\) of by-hand: success/,
    );
    expect(byHand.stdout).toContain('by hand');

    await waitUntil(() => hook.received.length > 0, 'the full-disk alert');
    expect(hook.received[0]!.body).toContain('caretaker cannot write its history');

    rmSync(join(dir, 'state', 'filler'));
    await waitUntil(
      () => daemon.stderr().includes('the history is writable again'),
      'the backlog to be written',
    );
    const recorded = await runs(dir);
    expect(recorded.find((r) => r.task === 'by-hand')).toMatchObject({
      status: 'success',
      trigger: 'manual',
    });
    expect(recorded.every((r) => r.id > 0)).toBe(true);
    expect(recorded.filter((r) => r.task === 'tick' && r.status === 'success').length).toBeGreaterThan(
      atFull,
    );

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    const err = daemon.stderr();
    expect(count(err, 'the history cannot be written')).toBe(1);
    expect(count(err, 'cannot write the log file')).toBeLessThanOrEqual(1);
    expect(err).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(hook.received.filter((r) => r.body.includes('cannot write its history'))).toHaveLength(1);
  });

  it('obeys SIGTERM while the disk is still full, and says what it could not record', async () => {
    const { daemon } = await setup();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.stderr()).toMatch(
      /caretaker: \d+ history writes? could not be recorded \(the disk is still full\) and (is|are) lost/,
    );
  });
});
