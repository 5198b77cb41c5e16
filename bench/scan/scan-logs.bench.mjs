// scan-logs over a 1 GB log counting three patterns, against `grep -cE` with the same regexes
// (page cache warm), and an incremental rescan after 1 MB is appended.
// Goals: full scan ≤ 1.0× grep; incremental rescan < 50 ms.
//   node bench/scan/scan-logs.bench.mjs [--quick] [--rounds N]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, machineLine, median } from '../support/machine.mjs';

const here = new URL('.', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ROUNDS = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : quick ? 2 : 5);
const SIZE_MB = quick ? 100 : 1024;
const PATTERNS = {
  errors: 'ERROR|CRITICAL|FATAL',
  warnings: 'WARN(ING)?',
  connection_failed: 'Connection.*(refused|failed)',
};

// The log is kept between runs (it takes a while to write): bench/.work is git-ignored.
const work = join(ROOT, 'bench/.work');
mkdirSync(work, { recursive: true });
const log = join(work, `scan-${SIZE_MB}MB.log`);
if (!existsSync(log) || statSync(log).size < SIZE_MB * 2 ** 20) {
  execFileSync(process.execPath, [join(here, 'make-log.mjs'), log, String(SIZE_MB)], { stdio: 'inherit' });
}
const size = statSync(log).size;
execFileSync('sh', ['-c', `cat '${log}' > /dev/null`]); // page cache warm

function grep(regex) {
  const t = performance.now();
  const r = spawnSync('grep', ['-cE', regex, log], { encoding: 'utf8' });
  return { ms: performance.now() - t, count: Number(r.stdout.trim()) };
}

function scanChild(options, repeat) {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-scan-'));
  try {
    const argv = [
      join(here, '../support/action-child.mjs'),
      'actions/scan-logs.js',
      'scanLogsAction',
      dir,
      join(dir, '.caretaker'),
      JSON.stringify(options),
    ];
    if (repeat) argv.push(JSON.stringify(repeat));
    const out = execFileSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const line = '2026-11-24T12:00:00.000Z ERROR [svc-1] Connection refused to db-7:5432 after 3000ms\n';
const startLine = machineLine();
const g = { errors: [], warnings: [], connection_failed: [], combined: [] };
const counts = {};
const c = { full: [], single: [], incr: [], incrWarm: [], rss: 0, counts: undefined, workers: 0 };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, regex] of Object.entries(PATTERNS)) {
    const r = grep(regex);
    g[name].push(r.ms);
    counts[name] = r.count;
  }
  g.combined.push(grep(Object.values(PATTERNS).join('|')).ms);
  const opts = { paths: [log], patterns: PATTERNS, critical: {} };
  const full = scanChild(opts, { file: log, bytes: 2 ** 20, line, times: 4 });
  truncateSync(log, size);
  c.full.push(full.runs[0].ms);
  c.incr.push(full.runs[1].ms);
  c.incrWarm.push(...full.runs.slice(2).map((r) => r.ms));
  c.rss = Math.max(c.rss, full.maxRssMb);
  c.counts = full.runs[0].details.counts;
  c.workers = full.runs[0].details.files[0].workers ?? 0;
  c.single.push(scanChild({ ...opts, threads: 1 }).runs[0].ms);
}

// The CLI as a user runs it, for the incremental case: process start, config, SQLite, the scan.
const cliDir = mkdtempSync(join(tmpdir(), 'ct-bench-scan-cli-'));
writeFileSync(
  join(cliDir, 'caretaker.yaml'),
  `version: 1\ntasks:\n  scan:\n    action: scan-logs\n    schedule: "every 5m"\n    with:\n      paths: ["${log}"]\n      patterns: ${JSON.stringify(PATTERNS)}\n      critical: {}\n`,
);
const cli = () => {
  const t = performance.now();
  spawnSync(process.execPath, [
    join(ROOT, 'dist/cli/main.js'),
    'run-task',
    'scan',
    '--wait',
    '-c',
    join(cliDir, 'caretaker.yaml'),
  ]);
  return performance.now() - t;
};
cli(); // first run reads the whole log
execFileSync('sh', ['-c', `head -c ${2 ** 20} '${log}' >> '${log}'`]);
const cliIncr = cli();
truncateSync(log, size);
rmSync(cliDir, { recursive: true, force: true });

const grepSum = median(g.errors) + median(g.warnings) + median(g.connection_failed);
const equal = Object.keys(PATTERNS).every((k) => c.counts[k] === counts[k]);
console.log(
  `scan-logs: ${(size / 2 ** 20).toFixed(0)} MB log, ${Object.keys(PATTERNS).length} patterns, page cache warm, ${ROUNDS} round(s), medians\n`,
);
console.log(`Machine: ${startLine}\nLoad at the end: ${machineLine().split('load average ')[1]}\n`);
console.log('| what | wall time (median) | runs |');
console.log('|---|---:|---|');
for (const [name, regex] of Object.entries(PATTERNS))
  console.log(`| \`grep -cE '${regex}'\` | ${fmt(median(g[name]))} | ${g[name].map(fmt).join(', ')} |`);
console.log(`| three greps, one per pattern (sum) | ${fmt(grepSum)} | |`);
console.log(
  `| \`grep -cE\` with the three as one alternation (one count only) | ${fmt(median(g.combined))} | ${g.combined.map(fmt).join(', ')} |`,
);
console.log(
  `| scan-logs, full scan (${c.workers} worker threads) | ${fmt(median(c.full))} | ${c.full.map(fmt).join(', ')} |`,
);
console.log(
  `| scan-logs, full scan, threads: 1 | ${fmt(median(c.single))} | ${c.single.map(fmt).join(', ')} |`,
);
console.log(
  `| scan-logs, incremental rescan after appending 1 MB: first in the process (cold JIT, like a CLI run) | ${fmt(median(c.incr))} | ${c.incr.map(fmt).join(', ')} |`,
);
console.log(
  `| scan-logs, incremental rescan after appending 1 MB: later ones (warm, like the daemon) | ${fmt(median(c.incrWarm))} | ${c.incrWarm.map(fmt).join(', ')} |`,
);
console.log(
  `| \`caretaker run-task scan --wait\` after appending 1 MB (CLI: process, config, SQLite, scan) | ${fmt(cliIncr)} | |`,
);
console.log(
  `\nCounts equal to grep's: ${equal ? 'yes' : 'NO'} (${Object.entries(c.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}). Peak RSS of the scanning process: ${c.rss.toFixed(0)} MB.`,
);
console.log(
  `\nRatios: full scan / three greps = ${(median(c.full) / grepSum).toFixed(2)}×; full scan / one combined grep = ${(median(c.full) / median(g.combined)).toFixed(2)}×; single thread / three greps = ${(median(c.single) / grepSum).toFixed(2)}×.`,
);
console.log('Goals: ≤ 1.0× grep; incremental rescan < 50 ms.');
