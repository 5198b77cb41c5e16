// prune-files on 100,000 files (half older than the cut-off) against
// `find DIR -type f -mtime +7 -delete`, each on a fresh copy of the same tree, alternating, on the
// temp dir's filesystem. Goal: ≤ 1.5× find's wall time, peak RSS < 150 MB.
//   node bench/prune/prune-files.bench.mjs [--quick] [--rounds N] [--dir DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, machineLine, median } from '../support/machine.mjs';

const here = new URL('.', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const FILES = quick ? 10_000 : 100_000;
const ROUNDS = Number(opt('--rounds', quick ? 1 : 3));
const base = mkdtempSync(join(opt('--dir', tmpdir()), 'ct-bench-prune-'));

function build(name) {
  const root = join(base, name);
  execFileSync(process.execPath, [join(here, 'build-tree.mjs'), join(root, 'cache'), String(FILES)]);
  execFileSync('sync');
  return root;
}

function timed(cmd, argv) {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...argv], { encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { ms, rssMb: kb / 1024, stdout: r.stdout };
}

const rows = { find: [], action: [], actionProc: [], cli: [] };
let rss = { find: 0, action: 0 };
let removed;
const startLine = machineLine();
for (let round = 0; round < ROUNDS; round++) {
  // find: what an operator would otherwise run from cron.
  const a = build(`find-${round}`);
  const f = timed('find', [join(a, 'cache'), '-type', 'f', '-mtime', '+7', '-delete']);
  rows.find.push(f.ms);
  rss.find = Math.max(rss.find, f.rssMb);
  rmSync(a, { recursive: true, force: true });

  // The action alone, in a process of its own (its run time, and the process's wall time and RSS).
  const b = build(`action-${round}`);
  const p = timed(process.execPath, [
    join(here, '../support/action-child.mjs'),
    'actions/prune-files.js',
    'pruneFilesAction',
    b,
    join(b, '.caretaker'),
    JSON.stringify({ paths: ['cache'], older_than: '7d' }),
  ]);
  const out = JSON.parse(p.stdout);
  rows.action.push(out.runs[0].ms);
  rows.actionProc.push(p.ms);
  rss.action = Math.max(rss.action, out.maxRssMb);
  removed = out.runs[0].details.filesRemoved;
  rmSync(b, { recursive: true, force: true });

  // The CLI as a user runs it: config load, SQLite history, the run, the report.
  const c = build(`cli-${round}`);
  writeFileSync(
    join(c, 'caretaker.yaml'),
    'version: 1\ntasks:\n  prune:\n    action: prune-files\n    schedule: "@daily"\n    with: { paths: [cache], older_than: 7d }\n',
  );
  const t = performance.now();
  execFileSync(process.execPath, [
    join(ROOT, 'dist/cli/main.js'),
    'run-task',
    'prune',
    '--wait',
    '-c',
    join(c, 'caretaker.yaml'),
  ]);
  rows.cli.push(performance.now() - t);
  rmSync(c, { recursive: true, force: true });
}
rmSync(base, { recursive: true, force: true });

const find = median(rows.find);
console.log(
  `prune-files: ${FILES.toLocaleString('en')} files, half older than the cut-off (${removed} removed), ${ROUNDS} round(s), median of each\n`,
);
console.log(`Machine: ${startLine}\nLoad at the end: ${machineLine().split('load average ')[1]}\n`);
console.log('| tool | wall time (median) | runs | ratio to find | peak RSS |');
console.log('|---|---:|---|---:|---:|');
console.log(
  `| \`find DIR -type f -mtime +7 -delete\` | ${fmt(find)} | ${rows.find.map(fmt).join(', ')} | 1.00× | ${rss.find.toFixed(1)} MB |`,
);
console.log(
  `| prune-files, the action's run | ${fmt(median(rows.action))} | ${rows.action.map(fmt).join(', ')} | ${(median(rows.action) / find).toFixed(2)}× | ${rss.action.toFixed(0)} MB |`,
);
console.log(
  `| prune-files, its whole process (node start + import + run) | ${fmt(median(rows.actionProc))} | ${rows.actionProc.map(fmt).join(', ')} | ${(median(rows.actionProc) / find).toFixed(2)}× | ${rss.action.toFixed(0)} MB |`,
);
console.log(
  `| \`caretaker run-task prune --wait\` (CLI, SQLite history) | ${fmt(median(rows.cli))} | ${rows.cli.map(fmt).join(', ')} | ${(median(rows.cli) / find).toFixed(2)}× | — |`,
);
console.log(`\nGoal: ≤ 1.5× find, peak RSS < 150 MB.`);
