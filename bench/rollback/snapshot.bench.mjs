#!/usr/bin/env node
/**
 * Rollback points on a large tree: what a point costs, compared with what an operator would do by
 * hand (cp -a, tar, sha256sum). Run after `npm run build`:
 *
 *   node bench/rollback/snapshot.bench.mjs           # full size: 20,000 files, ~250 MB
 *   node bench/rollback/snapshot.bench.mjs --quick   # 2,000 files, ~25 MB, well under a minute
 *
 * Prints a Markdown table and the machine it ran on. The page cache is warm for every contender
 * (each reads the tree right after the previous one); caches are not dropped on a shared machine.
 */
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SystemClock } from '../../dist/engine/clock.js';
import { PathGuard } from '../../dist/safety/path-guard.js';
import { RollbackPoints } from '../../dist/safety/rollback-points.js';
import { restorePoint } from '../../dist/safety/rollback-restore.js';

const quick = process.argv.includes('--quick');
const FILES = quick ? 2_000 : 20_000;
const BIG = quick ? 2 : 10; // a few large files, 5 MB each
const work = resolve(import.meta.dirname, '..', '.work', 'rollback');
rmSync(work, { recursive: true, force: true });
const tree = join(work, 'tree');
mkdirSync(tree, { recursive: true });

let bytes = 0;
for (let i = 0; i < FILES; i++) {
  const dir = join(tree, `d${i % 100}`, `e${i % 7}`);
  mkdirSync(dir, { recursive: true });
  const size = 4096 + ((i * 7919) % 12288);
  writeFileSync(join(dir, `f${i}.dat`), randomBytes(size));
  bytes += size;
}
for (let i = 0; i < BIG; i++) {
  writeFileSync(join(tree, `big${i}.bin`), randomBytes(5 * 1024 * 1024));
  bytes += 5 * 1024 * 1024;
}
const total = FILES + BIG;

const time = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const sh = (cmd) => execSync(cmd, { cwd: work, stdio: 'ignore', shell: '/bin/bash' });

const stateDir = join(work, 'state');
const open = () =>
  new RollbackPoints({
    stateDir,
    host: 'bench',
    clock: new SystemClock(),
    guard: new PathGuard({ stateDir }),
    maxPoints: 50,
    maxBytes: 64 * 1024 ** 3,
  });
const points = open();
const takeWith = (p) =>
  p.take({ paths: [tree], baseDir: work, kind: 'task', task: 'bench', runId: 1, label: '' });
const take = () => takeWith(points);
/** A new instance reads the point index from disk, as a CLI process does (module loading not counted). */
const takeCold = () => takeWith(open());

/** Median of three runs; `reset` runs before each and is not timed. */
const median = async (fn, reset = () => {}) => {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    await reset();
    runs.push(await time(fn));
  }
  return runs.sort((a, b) => a - b)[1];
};

const loadBefore = loadavg();
const rows = [];
const cpA = await median(
  () => sh('cp -a tree copy-a'),
  () => rmSync(join(work, 'copy-a'), { recursive: true, force: true }),
);
const cpSync = await median(
  () => sh('cp -a tree copy-a && sync -f copy-a'),
  () => rmSync(join(work, 'copy-a'), { recursive: true, force: true }),
);
const tarT = await median(
  () => sh('tar -cf tree.tar tree'),
  () => rmSync(join(work, 'tree.tar'), { force: true }),
);
// Output to a file, not /dev/null, as a user's script would keep it.
const shaT = await median(() => sh('find tree -type f -print0 | xargs -0 sha256sum > sha.out'));
const first = await median(take, () => rmSync(stateDir, { recursive: true, force: true }));
rows.push(['first point (hash + copy every file, flushed to disk)', first, 'cp -a', cpA]);
rows.push(['first point (hash + copy every file, flushed to disk)', first, 'cp -a && sync -f', cpSync]);
rows.push(['first point (hash + copy every file, flushed to disk)', first, 'tar -cf', tarT]);
// The daemon's case: the same instance, which keeps the point index in memory between points.
await take(); // the first point in this instance after the medians above (each a new state dir)
const second = await median(take);
rows.push([
  'next point, tree unchanged, same process (the daemon: index kept in memory)',
  second,
  'find \\| xargs sha256sum',
  shaT,
]);
const secondCold = await median(takeCold);
rows.push([
  'next point, tree unchanged, new instance (a CLI: index read from disk)',
  secondCold,
  'find \\| xargs sha256sum',
  shaT,
]);
// CPU as well: on a shared machine the wall times move with the load, CPU much less.
const cpuOf = async (fn) => {
  const c = process.cpuUsage();
  await fn();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
};
const cpuMedian = async (fn) => {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await cpuOf(fn));
  return runs.sort((a, b) => a - b)[1];
};
const secondCpu = await cpuMedian(take);
const secondColdCpu = await cpuMedian(takeCold);
const shaCpu = (() => {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const out = execSync(
      "TIMEFORMAT='%U %S'; time (find tree -type f -print0 | xargs -0 sha256sum > sha.out) 2>&1",
      {
        cwd: work,
        shell: '/bin/bash',
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const [u, sy] = out.trim().split(/\s+/).slice(-2).map(Number);
    runs.push((u + sy) * 1000);
  }
  return runs.sort((a, b) => a - b)[1];
})();

// Change 1% of the files, then restore the first point.
let changed = 0;
for (let i = 0; i < FILES / 100; i++) {
  const i2 = i * 100;
  writeFileSync(join(tree, `d${i2 % 100}`, `e${i2 % 7}`, `f${i2}.dat`), randomBytes(100));
  changed++;
}
const restore = await time(() => restorePoint(points, 'rb-1', { reason: 'bench' })); // rb-1: the first point kept
const cpBack = await time(() => sh('cp -a copy-a/. tree/'));
rows.push([
  `restore after ${changed} files changed (verify, pre-rollback point, restore)`,
  restore,
  'cp -a back over the tree',
  cpBack,
]);
const stored = Number(
  execFileSync('du', ['-sb', join(stateDir, 'rollback', 'blobs')], { encoding: 'utf8' }).split('\t')[0],
);

const kept = (await points.list()).length;
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
console.log(
  `\n### Rollback point of ${total.toLocaleString('en')} files, ${(bytes / 1024 ** 2).toFixed(0)} MB${quick ? ' (--quick)' : ''}\n`,
);
console.log('| operation | caretaker | compared with | that tool | ratio |');
console.log('|---|---|---|---|---|');
for (const [op, ct, tool, t] of rows)
  console.log(`| ${op} | ${fmt(ct)} | \`${tool}\` | ${fmt(t)} | ${(ct / t).toFixed(2)}× |`);
console.log(
  `\nCPU (user + system, median of 3), next point of the unchanged tree: same process ${fmt(secondCpu)} (${(secondCpu / shaCpu).toFixed(2)}×), new instance ${fmt(secondColdCpu)} (${(secondColdCpu / shaCpu).toFixed(2)}×); \`find | xargs sha256sum\`: ${fmt(shaCpu)}.`,
);
console.log(
  `\nStored after ${kept} points (all but one of the same tree, one pre-rollback): ${(stored / 1024 ** 2).toFixed(0)} MB for ${(bytes / 1024 ** 2).toFixed(0)} MB of files (deduplicated by SHA-256).`,
);
const cpu = cpus()[0]?.model ?? 'unknown';
console.log(
  `\nMachine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM (${(freemem() / 1024 ** 3).toFixed(0)} GB free), Node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared with other engineers' test runs).`,
);
rmSync(work, { recursive: true, force: true });
