/**
 * One big log (1 GB; --quick: 64 MB) compressed by rotate-logs vs `gzip -6` and `pigz -6`, same
 * file, page cache warm. Checks that our output decompresses with `gzip -d` to the original and
 * stays within 2% of gzip -6's size.
 * Usage: npm run build && node bench/rotate/gzip-big.bench.mjs [--quick]
 */
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, machine, machineLine, timed, timedCommand, writeLog } from './log-data.mjs';
import { runRotateLogs } from './run-action.mjs';

const quick = process.argv.includes('--quick');
const SIZE = (quick ? 64 : 1024) * 1024 * 1024;
const work = resolve(import.meta.dirname, '..', '.work', 'gzip-big');
mkdirSync(work, { recursive: true });
const source = join(work, `big-${SIZE}.log`);
writeLog(source, SIZE, 42);
execFileSync('cat', [source], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache

console.log(machineLine());
const rows = [];
const rounds = quick ? 1 : 2;
for (let round = 1; round <= rounds; round++) {
  const gz = timedCommand(`gzip -6 -c '${source}' > '${join(work, 'out.gzip.gz')}'`);
  const pz = timedCommand(`pigz -6 -c '${source}' > '${join(work, 'out.pigz.gz')}'`);
  const dir = join(work, 'ct');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  cpSync(source, join(dir, 'logs', 'big.log'));
  execFileSync('sync');
  const ct = await timed(() => runRotateLogs(dir, { paths: ['logs/big.log'], rotate: 1, compress: true }));
  rows.push({ round, gz, pz, ct, dir });
}
const ours = join(rows[rows.length - 1].dir, 'logs', 'big.log.1.gz');
const sizes = {
  gzip: statSync(join(work, 'out.gzip.gz')).size,
  pigz: statSync(join(work, 'out.pigz.gz')).size,
  caretaker: statSync(ours).size,
};
// The output must decompress with gzip -d, to exactly the original.
const same =
  execSync(`gzip -dc '${ours}' | cmp - '${source}' && echo same`, { encoding: 'utf8' }).trim() === 'same';

console.log(
  `\n### one ${SIZE / 1024 ** 2} MB log: rotate-logs compression vs gzip -6 and pigz -6${quick ? ' (--quick)' : ''}\n`,
);
console.log('| round | gzip -6 | pigz -6 | caretaker | caretaker / gzip | caretaker / pigz |');
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.round} | ${fmt(r.gz)} | ${fmt(r.pz)} | ${fmt(r.ct)} | ${(r.ct.wall / r.gz.wall).toFixed(2)}x | ${(r.ct.wall / r.pz.wall).toFixed(2)}x |`,
  );
console.log('\n| output | bytes | vs gzip -6 |');
console.log('|---|---|---|');
for (const [k, v] of Object.entries(sizes))
  console.log(`| ${k} | ${v} | ${((v / sizes.gzip - 1) * 100).toFixed(2)}% |`);
console.log(
  `\ncaretaker's .gz decompresses with gzip -d to the original: ${same ? 'yes' : 'NO'} (goals: <= 0.6x gzip, <= 1.2x pigz, within 2% of gzip -6's size); load average now ${machine().load}`,
);
rmSync(join(work, 'ct'), { recursive: true, force: true });
