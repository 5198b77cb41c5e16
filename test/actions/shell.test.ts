import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harness } from '../support/engine-harness.js';
import { processAlive, waitUntil } from '../support/tmp.js';

describe('shell action', () => {
  it('runs in the config directory with env and stdin, and records exit code and output', async () => {
    const h = await harness(
      `  hello: { action: shell, with: { command: 'echo "$GREETING from $(pwd)"; cat; exit 3', env: { GREETING: hi }, stdin: "typed in\\n", success_codes: [3] } }\n`,
    );
    const run = await h.ct.runNow('hello');
    expect(run).toMatchObject({ status: 'success', exitCode: 3 });
    expect(run.outputTail).toBe(`hi from ${h.dir}\ntyped in\n`);
  });

  it('fails on an exit code not listed, and says why', async () => {
    const h = await harness(`  bad: { action: shell, with: { command: "echo oops >&2; exit 7" } }\n`);
    const run = await h.ct.runNow('bad');
    expect(run).toMatchObject({
      status: 'failed',
      exitCode: 7,
      reason: 'exit 7 after ' + run.result!.summary.split('after ')[1],
    });
    expect(run.outputTail).toBe('oops\n');
  });

  it('runs a program without a shell when given a list, and fails clearly when it does not exist', async () => {
    const h = await harness(
      `  direct: { action: shell, with: { command: [printf, "%s|", "a b", "c"] } }\n  missing: { action: shell, with: { command: [/no/such/program] } }\n`,
    );
    expect((await h.ct.runNow('direct')).outputTail).toBe('a b|c|');
    const missing = await h.ct.runNow('missing');
    expect(missing).toMatchObject({ status: 'failed' });
    expect(missing.reason).toBe('cannot start /no/such/program: ENOENT');
  });

  it('on timeout kills the whole process tree, grandchildren ignoring SIGTERM included', async () => {
    // The shell starts a grandchild that ignores SIGTERM, then waits. Timeout 5s, kill grace 2s,
    // on the manual clock: the test moves time, nothing sleeps.
    const script =
      'sh -c \'trap "" TERM; echo $$ > grandchild.pid; exec sleep 300\' & echo $$ > child.pid; wait';
    const h = await harness(
      `  stuck: { action: shell, timeout: 5s, kill_grace: 2s, with: { command: ${JSON.stringify(script)} } }\n`,
    );
    const queued = await h.ct.runNow('stuck', { wait: false });
    const pidOf = (f: string) =>
      existsSync(join(h.dir, f)) ? Number(readFileSync(join(h.dir, f), 'utf8')) : 0;
    const child = await waitUntil(() => pidOf('child.pid'), 'the child to start');
    const grandchild = await waitUntil(() => pidOf('grandchild.pid'), 'the grandchild to start');
    expect(processAlive(child) && processAlive(grandchild)).toBe(true);

    await h.advance(5_000); // timeout: SIGTERM to the group; the child dies, the grandchild ignores it
    await waitUntil(() => !processAlive(child), 'the child to die of SIGTERM');
    expect(processAlive(grandchild)).toBe(true);
    await h.advance(2_000); // kill grace over: SIGKILL to the group
    const run = await h.ct.waitForRun(queued.id);
    expect(processAlive(grandchild)).toBe(false);
    expect(run.status).toBe('timeout');
    expect(run.reason).toBe('timed out after 5s; its process group was terminated');
  });

  it('a dry run only says what it would run', async () => {
    const h = await harness(`  touchy: { action: shell, with: { command: "touch created" } }\n`);
    const run = await h.ct.runNow('touchy', { dryRun: true });
    expect(run.result).toMatchObject({
      ok: true,
      summary: 'would run: touch created',
      plan: [`run \`touch created\` in ${h.dir}`],
    });
    expect(existsSync(join(h.dir, 'created'))).toBe(false);
  });
});

describe('module action (a custom executor)', () => {
  it('calls the exported function with the task config and maps its result', async () => {
    const h = await harness(
      `  custom: { action: module, with: { path: tasks/count.mjs, export: count, config: { words: [a, b, c] } } }\n`,
      { autostart: false },
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(h.dir, 'tasks'));
    writeFileSync(
      join(h.dir, 'tasks', 'count.mjs'),
      `export async function count(config, ctx) { return { success: true, summary: 'counted ' + config.words.length, issuesFound: config.words.length, filesModified: 2, output: 'task ' + ctx.taskId }; }`,
    );
    const run = await h.ct.runNow('custom');
    expect(run).toMatchObject({ status: 'success', outputTail: 'task custom' });
    expect(run.result).toMatchObject({
      summary: 'counted 3',
      issuesFound: 3,
      filesModified: 2,
      changed: true,
    });
  });

  it('loads a TypeScript module, and reports a failure or a throw', async () => {
    const h = await harness(
      `  ts: { action: module, with: { path: check.ts, config: { limit: 1 } } }\n  missing: { action: module, with: { path: check.ts, export: nope } }\n`,
      { autostart: false },
    );
    writeFileSync(
      join(h.dir, 'check.ts'),
      `interface Cfg { limit: number }\nexport default async function (config: Cfg): Promise<{ success: boolean; summary: string }> {\n  if (config.limit > 5) throw new Error('limit too high');\n  return { success: config.limit > 2, summary: 'limit is ' + config.limit };\n}\nexport const helper = () => 1;\n`,
    );
    expect(await h.ct.runNow('ts')).toMatchObject({ status: 'failed', reason: 'limit is 1' });
    const missing = await h.ct.runNow('missing');
    expect(missing.reason).toBe('check.ts has no exported function "nope"; it exports default, helper');
  });

  it('skips the call in a dry run unless dry_run: call', async () => {
    const h = await harness(
      `  a: { action: module, with: { path: m.mjs } }\n  b: { action: module, with: { path: m.mjs, dry_run: call } }\n`,
      { autostart: false },
    );
    writeFileSync(
      join(h.dir, 'm.mjs'),
      `export default (c, ctx) => ({ summary: 'called, dryRun=' + ctx.dryRun });`,
    );
    expect((await h.ct.runNow('a', { dryRun: true })).result!.summary).toBe('would call default() of m.mjs');
    expect((await h.ct.runNow('b', { dryRun: true })).result!.summary).toBe('called, dryRun=true');
  });
});
