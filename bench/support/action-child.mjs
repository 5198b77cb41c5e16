// Runs one action from dist/ in this (child) process and prints JSON: its run time, the
// process's peak RSS, and the result's details. Used by the benchmarks so that each measured
// run has its own process and its own peak RSS.
// usage: node action-child.mjs ACTION_MODULE EXPORT BASE_DIR STATE_DIR OPTIONS_JSON [REPEAT_JSON]
import { join } from 'node:path';
import pino from 'pino';

const [modPath, exportName, baseDir, stateDir, optionsJson, repeatJson] = process.argv.slice(2);
const ROOT = new URL('../..', import.meta.url).pathname;
const action = (await import(join(ROOT, 'dist', modPath)))[exportName];
const { SystemClock } = await import(join(ROOT, 'dist/engine/clock.js'));

function ctx(runId) {
  return {
    taskId: 'bench',
    runId,
    attempt: 1,
    host: 'bench',
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    dryRun: false,
    clock: new SystemClock(),
    baseDir,
    stateDir,
    taskStateDir: join(stateDir, 'tasks', 'bench'),
    killGraceMs: 1000,
    output() {},
    progress() {},
    snapshot: async () => {},
    history: { recent: async () => [] },
    resolvePath: (p) => join(baseDir, p),
  };
}

const options = action.schema.parse(JSON.parse(optionsJson));
const runs = [];
const t = performance.now();
const r = await action.run(ctx(1), options);
runs.push({ ms: performance.now() - t, summary: r.summary, details: r.details });
// Optional further runs, each after appending to a file, for incremental timings.
if (repeatJson) {
  const { appendFile } = await import('node:fs/promises');
  const { file, bytes, line, times = 1 } = JSON.parse(repeatJson);
  const chunk = line.repeat(Math.ceil(bytes / line.length));
  for (let k = 0; k < times; k++) {
    await appendFile(file, chunk);
    const t2 = performance.now();
    const r2 = await action.run(ctx(2 + k), options);
    runs.push({ ms: performance.now() - t2, summary: r2.summary, details: r2.details, bytes: chunk.length });
  }
}
console.log(JSON.stringify({ runs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
