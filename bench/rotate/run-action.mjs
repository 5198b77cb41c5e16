/** Runs the built rotate-logs action once on `dir` (as a forced, manual run) and returns its result. */
import { join, resolve } from 'node:path';
import pino from 'pino';
import { rotateLogsAction } from '../../dist/actions/rotate-logs.js';
import { SystemClock } from '../../dist/engine/clock.js';

export async function runRotateLogs(dir, options) {
  const stateDir = join(dir, '.caretaker');
  const ctx = {
    taskId: 'bench',
    runId: 1,
    attempt: 1,
    trigger: 'manual',
    host: 'bench',
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    dryRun: false,
    clock: new SystemClock(),
    baseDir: dir,
    stateDir,
    taskStateDir: join(stateDir, 'tasks', 'bench'),
    killGraceMs: 1000,
    output: () => {},
    progress: () => {},
    snapshot: async () => {},
    history: { recent: async () => [] },
    resolvePath: (p) => resolve(dir, p),
  };
  const result = await rotateLogsAction.run(ctx, rotateLogsAction.schema.parse(options));
  if (!result.ok) throw new Error(`rotate-logs failed: ${result.summary}`);
  return result;
}
