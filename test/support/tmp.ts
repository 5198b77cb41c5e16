/** A fresh temp dir per test, removed when the test passes (kept for inspection when it fails). */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export function tempDir(prefix = 'ct-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  onTestFinished((ctx) => {
    if (ctx.task.result?.state !== 'fail') rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Polls a condition on real time (for async work and child processes), failing after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Is the process still running? A zombie (exited, not yet reaped by its parent or by PID 1) is
 * not: kill(pid, 0) still finds it, /proc tells (Linux).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return process.platform !== 'linux'; // gone from /proc meanwhile: gone
  }
}
