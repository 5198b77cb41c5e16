// Run bookkeeping: module runs of a no-op function through the full runner with SQLite history,
// on the SQLite driver this Node uses (node:sqlite on Node 22+, better-sqlite3 before).
// Goal: > 2,000 runs/s on either.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLine, machineLine } from '../support/machine.mjs';
import { quick, tmp, ROOT } from './support.mjs';

const { createCaretaker } = await import(join(ROOT, 'dist/index.js'));
const { sqliteDriverName } = await import(join(ROOT, 'dist/store/sqlite/driver.js'));
// The machine is shared: the load before the run is printed with the result, next to the one after.
const loadBefore = loadLine();
const total = quick ? 2_000 : 10_000;
const lanes = 10;
const dir = tmp('ct-bench-runs-');
writeFileSync(join(dir, 'noop.mjs'), 'export default async () => ({ success: true, summary: "noop" });\n');
const tasks = Array.from(
  { length: lanes },
  (_, i) => `  lane${i}: { action: module, with: { path: noop.mjs } }`,
).join('\n');
const ct = createCaretaker({
  configText: `version: 1\nconcurrency: ${lanes}\ntasks:\n${tasks}\n`,
  baseDir: dir,
});
await ct.runNow('lane0'); // warm: module import, statements prepared

const t = performance.now();
await Promise.all(
  Array.from({ length: lanes }, async (_, i) => {
    for (let k = 0; k < total / lanes; k++) {
      const run = await ct.runNow(`lane${i}`);
      if (run.status !== 'success') throw new Error(`run ${run.id}: ${run.status} ${run.reason}`);
    }
  }),
);
const s = (performance.now() - t) / 1000;
const stored = (await ct.history({ limit: total + 10 })).length;
await ct.close();
console.log(`Machine: ${machineLine()} (before: ${loadBefore})\n`);
console.log('| Node | SQLite driver | runs | lanes | seconds | runs/s | rows in history | goal |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(
  `| ${process.versions.node} | ${sqliteDriverName()} | ${total} | ${lanes} | ${s.toFixed(2)} | ${Math.round(total / s)} | ${stored} | > 2,000 runs/s |`,
);
console.log(
  '\nEach run: a row queued, started and finished, task state and the daily rollup updated, the module function called.\n',
);
