#!/usr/bin/env node
/**
 * Backup, verify and restore against the tools an operator would otherwise use, in the same run:
 *   backup of a 100,000-file tree (~250 MB) and of one 1 GB file vs `tar czf` (gzip -6 both),
 *   verify vs `gzip -t`, restore vs `tar xzf`.
 * Usage: npm run build && node bench/backup/backup.bench.mjs [--quick] [--reps N]
 * --quick: 10,000 files and 100 MB, one repetition (< 1 minute). Prints a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { cpus, freemem, totalmem, availableParallelism } from 'node:os';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBigFile, makeTree } from './make-data.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(join(root, 'dist', p));
const { writeArchive } = await dist('backup/write-archive.js');
const { checkArchive } = await dist('backup/verify-archive.js');
const { restoreArchive } = await dist('backup/restore-archive.js');

const quick = process.argv.includes('--quick');
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : quick ? 1 : 3;
const FILES = quick ? 10_000 : 100_000;
const BIG = quick ? 100 * 1024 * 1024 : 1024 * 1024 * 1024;
const work = join(root, 'bench', '.work', 'backup');
const out = join(work, 'out');
mkdirSync(out, { recursive: true });

function machine() {
  const load = spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' })
    .stdout.trim()
    .split(' ')
    .slice(0, 3)
    .join(' ');
  return [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, nproc ${availableParallelism()}`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GB (${(freemem() / 2 ** 30).toFixed(1)} GB free)`,
    `- Node ${process.version}; ${spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}; ${spawnSync('gzip', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`,
    `- load average at start: ${load} (the machine is shared)`,
  ].join('\n');
}

function run(cmd, args) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - t;
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function backupOptions(src, name, parallel) {
  return {
    task: name,
    host: 'bench',
    version: 'bench',
    dest: out,
    time: Date.now(),
    roots: [src],
    isExcluded: () => false,
    protectedDirs: [],
    sqlite: [],
    postgres: [],
    compression: 6,
    parallel,
    verify: false,
    signal: new AbortController().signal,
    runTool: () => Promise.reject(new Error('unused')),
  };
}

const rows = [];
const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);
function row(what, ours, theirs, tool, goal, extra = '') {
  const ratio = ours / theirs;
  rows.push(
    `| ${what} | ${(ours / 1000).toFixed(2)} s | ${tool} ${(theirs / 1000).toFixed(2)} s | ${ratio.toFixed(2)}× | ≤ ${goal}× ${ratio <= goal ? '✅' : '❌'} | ${extra} |`,
  );
}

async function scenario(label, src, bytes) {
  const parent = dirname(src);
  const name = basename(src);
  const ours2 = [];
  const ours1 = [];
  const tars = [];
  let archive;
  for (let i = 0; i < reps; i++) {
    const tgz = join(out, `${label}.tgz`);
    tars.push(run('tar', ['czf', tgz, '-C', parent, name]));
    rmSync(tgz);
    let r;
    ours2.push(
      await timed(
        async () => (r = await writeArchive(backupOptions(src, `${label}-t2-${i}`, availableParallelism()))),
      ),
    );
    if (i < reps - 1) rmSync(r.path);
    else archive = r.path;
    let r1;
    ours1.push(await timed(async () => (r1 = await writeArchive(backupOptions(src, `${label}-t1-${i}`, 1)))));
    rmSync(r1.path);
    rmSync(`${r1.path}.manifest.json`);
  }
  const size = statSync(archive).size;
  row(
    `backup ${label} (${mb(bytes)} MB)`,
    median(ours2),
    median(tars),
    '`tar czf`',
    label === 'tree' ? 1.1 : 1.05,
    `${availableParallelism()} gzip threads; archive ${mb(size)} MB`,
  );
  row(
    `backup ${label}, one gzip thread`,
    median(ours1),
    median(tars),
    '`tar czf`',
    label === 'tree' ? 1.1 : 1.05,
    'same pipeline, no parallel gzip',
  );

  const verifies = [];
  const gzips = [];
  for (let i = 0; i < reps; i++) {
    gzips.push(run('gzip', ['-t', archive]));
    verifies.push(
      await timed(async () => {
        const c = await checkArchive(archive);
        if (!c.ok) throw new Error(`verify failed: ${JSON.stringify(c.problems.slice(0, 3))}`);
      }),
    );
  }
  const speed = (ms) => `${(size / 2 ** 20 / (ms / 1000)).toFixed(0)} MB/s`;
  row(
    `verify ${label}`,
    median(verifies),
    median(gzips),
    '`gzip -t`',
    1.2,
    `${speed(median(verifies))} vs ${speed(median(gzips))} (compressed bytes); SHA-256 of every entry and of the file`,
  );

  const restores = [];
  const untars = [];
  for (let i = 0; i < reps; i++) {
    const a = join(out, 'restore-tar');
    const b = join(out, 'restore-ours');
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
    mkdirSync(a);
    untars.push(run('tar', ['xzf', archive, '-C', a]));
    restores.push(await timed(() => restoreArchive(archive, { to: b, force: false })));
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
  row(
    `restore ${label}`,
    median(restores),
    median(untars),
    '`tar xzf`',
    1.2,
    'sidecar SHA-256 check, then one pass; every file hashed',
  );
  rmSync(archive);
  rmSync(`${archive}.manifest.json`, { force: true });
}

console.error(`preparing data in ${work} ...`);
const tree = join(work, `tree-${FILES}`);
makeTree(tree, FILES);
const big = join(work, `big-${BIG}`, 'big.log');
mkdirSync(dirname(big), { recursive: true });
makeBigFile(big, BIG);
const treeBytes = Number(
  spawnSync('du', ['-sb', '--apparent-size', tree], { encoding: 'utf8' }).stdout.split('\t')[0],
);

console.error('tree ...');
await scenario('tree', tree, treeBytes);
console.error('big file ...');
await scenario('big', dirname(big), BIG);

console.log(`## Backup benchmarks${quick ? ' (--quick)' : ''}\n`);
console.log(machine());
console.log(
  `- data: ${FILES.toLocaleString('en')} files (${mb(treeBytes)} MB, mostly text, 5% random); one ${mb(BIG)} MB log-like file; gzip level 6 everywhere; page cache warm; median of ${reps}\n`,
);
console.log('| scenario | caretaker | reference | ratio | goal | notes |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
