/**
 * Crash recovery of a run whose process is gone, when what is left of its command is a zombie:
 * the command had finished (a PID 1 that does not reap left its exit status unread), so nothing
 * was "still running" and nothing is terminated.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { processStartTime } from '../../src/os/process-identity.js';
import { harness, T0 } from '../support/engine-harness.js';
import { skipBecause } from '../support/skip-reason.js';
import { waitUntil } from '../support/tmp.js';

const stateOf = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
};

/** A process group whose only member has exited and is never reaped: `sleep` is its parent. */
async function zombieGroup(): Promise<number> {
  const parent = spawn('sh', ['-c', 'setsid true & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  onTestFinished(() => {
    parent.kill('SIGKILL');
  });
  const pid = await new Promise<number>((res) =>
    parent.stdout.once('data', (d: Buffer) => res(Number(String(d).trim()))),
  );
  await waitUntil(() => stateOf(pid) === 'Z', 'the group leader to be a zombie');
  return pid;
}

const cannot =
  process.platform !== 'linux'
    ? skipBecause('zombie process group recovery', 'needs Linux /proc')
    : spawnSync('setsid', ['true']).status !== 0
      ? skipBecause('zombie process group recovery', 'needs setsid(1) (util-linux)')
      : false;

describe.skipIf(cannot)('engine: crash recovery of a run left by a dead process', () => {
  it('says the command had finished when only a zombie of its process group is left', async () => {
    const h = await harness('  job: { action: gate }\n');
    await h.stop();
    const store = await h.store();
    const deadPid = spawnSync('true').pid!;
    const zombie = await zombieGroup();
    const run = await store.insertRun({
      task: 'job',
      host: 'test-host',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: T0,
      queuedAt: T0,
      status: 'running',
      startedAt: T0,
      attempt: 1,
      dryRun: false,
      pid: deadPid,
    });
    await store.setChildProcess(run.id, zombie, processStartTime(zombie));
    await h.restart(T0 + 60_000);
    const after = await store.getRun(run.id);
    expect(after).toMatchObject({ status: 'interrupted' });
    expect(after!.reason).toContain(
      `; its command had already finished (process group ${zombie} was left only as an unreaped zombie, nothing to terminate)`,
    );
    expect(after!.reason).not.toMatch(/still running/);
  });
});
