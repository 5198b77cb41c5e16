/**
 * `overlap: queue` is one rule whether a daemon runs or not: concurrent `caretaker run-task`
 * callers (real processes) get one running run and queue_max waiting ones; the others are
 * refused and recorded as skipped. The store decides, in id order, over every live process.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRecord } from '../../src/store/types.js';
import { cli, cliAsync, type CliResult } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const CALLERS = 6;

function setUp(): string {
  const dir = tempDir('ct-queue-');
  // Each run holds until the test creates `release`: every caller is in before any run ends.
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    'version: 1\ntasks:\n  job: { action: shell, overlap: queue, with: { command: "while [ ! -f release ]; do sleep 0.05; done" } }\n',
  );
  return dir;
}

async function runs(dir: string): Promise<RunRecord[]> {
  const path = join(dir, '.caretaker', 'caretaker.db');
  if (!existsSync(path)) return [];
  const store = new SqliteStore(path);
  return store.listRuns({ limit: 100 }).finally(() => store.close());
}

async function callTogether(dir: string): Promise<CliResult[]> {
  const calls = Array.from({ length: CALLERS }, () => cliAsync(['run-task', 'job', '--wait'], { cwd: dir }));
  try {
    // A caller's row is `queued` from its insert until it has counted the runs ahead of it.
    const want = ['queued', 'running', ...Array<string>(CALLERS - 2).fill('skipped')].sort().join(',');
    let seen = '';
    await waitUntil(
      async () => {
        seen = (await runs(dir))
          .map((r) => r.status)
          .sort()
          .join(',');
        return seen === want;
      },
      'one caller running, one waiting and the rest turned away',
      30_000,
    ).catch(async (err: unknown) => {
      // What each caller said: one that died (a locked database, say) is the likely story.
      writeFileSync(join(dir, 'release'), '');
      const said = (await Promise.all(calls)).map((r) => `[exit ${r.code}] ${r.stderr.trim()}`).join(' | ');
      throw new Error(`${(err as Error).message}; the runs were: ${seen}; the callers said: ${said}`);
    });
  } finally {
    // Released whatever happened, so no caller outlives the test.
    writeFileSync(join(dir, 'release'), '');
  }
  return Promise.all(calls);
}

function expectOneRule(results: CliResult[], after: RunRecord[]): void {
  expect(results.filter((r) => r.code === 0)).toHaveLength(2);
  const refused = results.filter((r) => r.code !== 0);
  expect(refused).toHaveLength(CALLERS - 2);
  for (const r of refused)
    expect(r.stderr).toMatch(
      /task "job" cannot take another run: queue full: 1 run already waiting \(queue_max 1\)/,
    );
  expect(after.map((r) => r.status).sort()).toEqual(
    ['success', 'success', ...Array<string>(CALLERS - 2).fill('skipped')].sort(),
  );
  for (const r of after.filter((r) => r.status === 'skipped'))
    expect(r.reason).toBe('queue full: 1 run already waiting (queue_max 1)');
}

describe('overlap: queue with concurrent run-task callers', () => {
  it('without a daemon: one runs, one waits for it in its own process, the rest are refused', async () => {
    const dir = setUp();
    const results = await callTogether(dir);
    expectOneRule(results, await runs(dir));
  }, 60_000);

  it('with a daemon: the same', async () => {
    const dir = setUp();
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    try {
      await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
      const results = await callTogether(dir);
      expectOneRule(results, await runs(dir));
    } finally {
      cli(['stop'], { cwd: dir });
    }
  }, 60_000);
});
