/**
 * A process group whose members have all exited but are not reaped yet (zombies) is over: a run
 * killed on timeout must not wait for someone to reap them. Under a PID 1 that never reaps (a
 * container without an init, or Node as PID 1) that someone never comes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { groupAlive } from '../../src/os/process-group.js';
import { pidNamespaceUnavailable, runAsPid1 } from '../support/pid-namespace.js';
import { waitUntil } from '../support/tmp.js';

const DIST = resolve(import.meta.dirname, '..', '..', 'dist');
const ABORT_RUN = resolve(import.meta.dirname, '..', 'support', 'pid1-abort-run.mjs');

function statState(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('groupAlive', () => {
  it('counts a group of zombies as gone, though kill(-pgid, 0) still finds it', async () => {
    // perl forks a child into a group of its own, the child exits at once, and perl never reaps
    // it: the group holds one zombie for as long as perl lives.
    const parent = spawn(
      'perl',
      ['-e', '$| = 1; my $p = fork; if ($p == 0) { setpgrp(0, 0); exit 0 } print "$p\\n"; sleep 30'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => void parent.kill('SIGKILL'));
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const pgid = Number(await waitUntil(() => /^\d+\n/.exec(out)?.[0], 'perl to fork'));
    await waitUntil(() => statState(pgid) === 'Z', 'the child to become a zombie');
    expect(() => process.kill(-pgid, 0)).not.toThrow(); // the kernel still finds the group
    expect(groupAlive(pgid)).toBe(false);
  });

  it('counts a group with a running member as alive, and a vanished one as gone', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid!;
    expect(groupAlive(pgid)).toBe(true);
    const exited = new Promise((r) => child.on('exit', r));
    process.kill(-pgid, 'SIGKILL');
    await exited; // Node reaps its own child
    expect(groupAlive(pgid)).toBe(false);
  });
});

const noPidNamespace = pidNamespaceUnavailable();

describe.skipIf(noPidNamespace)('a killed run under a PID 1 that never reaps', () => {
  it('ends as soon as its group has only zombies left, instead of waiting forever', async () => {
    const r = await runAsPid1(process.execPath, [ABORT_RUN, DIST]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      pid: number;
      hung: boolean;
      aborted: boolean;
      ms: number;
      zombies: number;
      live: number;
    };
    expect(report.pid).toBe(1); // Node itself is PID 1: nobody reaps the orphaned sleeps
    expect(report.hung).toBe(false);
    expect(report.aborted).toBe(true);
    expect(report.zombies).toBe(2); // the two sleeps, killed, never reaped
    expect(report.live).toBe(0);
    expect(report.ms).toBeLessThan(3_000);
  });
});
