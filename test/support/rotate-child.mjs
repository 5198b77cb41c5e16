/**
 * Runs rotate-logs once in its own process, from the built dist/, so that a test can kill it with
 * SIGKILL (CARETAKER_FAULT=rotate:step:N) at any point of a rotation. Prints the result as JSON,
 * then the number of fault points passed on the last line.
 * Usage: node rotate-child.mjs DIR OPTIONS_JSON [TRIGGER]
 */
import { resolve, join } from 'node:path';
import pino from 'pino';
import { rotateLogsAction } from '../../dist/actions/rotate-logs.js';
import { faultPointsReached } from '../../dist/os/fault-point.js';
import { SystemClock } from '../../dist/engine/clock.js';

const [dir, optionsJson, trigger = 'manual'] = process.argv.slice(2);
const stateDir = join(dir, '.caretaker');
const ctx = {
  taskId: 'rotate',
  runId: 1,
  attempt: 1,
  trigger,
  host: 'test',
  logger: pino({ level: 'silent' }),
  signal: new AbortController().signal,
  dryRun: false,
  clock: new SystemClock(),
  baseDir: dir,
  stateDir,
  taskStateDir: join(stateDir, 'tasks', 'rotate'),
  killGraceMs: 1000,
  output: () => {},
  progress: () => {},
  snapshot: async () => {},
  history: { recent: async () => [] },
  resolvePath: (p) => resolve(dir, p),
};
const result = await rotateLogsAction.run(ctx, rotateLogsAction.schema.parse(JSON.parse(optionsJson)));
process.stdout.write(`${JSON.stringify(result)}\n${faultPointsReached()}\n`);
