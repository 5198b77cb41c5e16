/**
 * rotate-logs vs `logrotate -f` with the same directives (rotate 4, compress): 20 logs of 50 MB
 * each (--quick: 20 x 4 MB). Both start from identical copies, page cache warm.
 * Usage: npm run build && node bench/rotate/rotate-many.bench.mjs [--quick]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, machine, machineLine, timed, timedCommand, writeLog } from './log-data.mjs';
import { runRotateLogs } from './run-action.mjs';

const quick = process.argv.includes('--quick');
const FILES = 20;
const SIZE = (quick ? 4 : 50) * 1024 * 1024;
const work = resolve(import.meta.dirname, '..', '.work', 'rotate-many');
const source = join(work, `source-${SIZE}`);
mkdirSync(source, { recursive: true });
for (let i = 0; i < FILES; i++) writeLog(join(source, `app${String(i).padStart(2, '0')}.log`), SIZE, i + 1);

function fresh(name) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  cpSync(source, join(dir, 'logs'), { recursive: true });
  execFileSync('sync');
  return dir;
}

function gzBytes(dir) {
  return readdirSync(join(dir, 'logs'))
    .filter((f) => f.endsWith('.gz'))
    .reduce((n, f) => n + statSync(join(dir, 'logs', f)).size, 0);
}

console.log(machineLine());
const rounds = quick ? 1 : 2;
const rows = [];
for (let round = 1; round <= rounds; round++) {
  const lrDir = fresh('logrotate');
  writeFileSync(join(lrDir, 'logrotate.conf'), `${join(lrDir, 'logs')}/*.log {\n  rotate 4\n  compress\n}\n`);
  const lr = timedCommand(`logrotate -f -s '${join(lrDir, 'state')}' '${join(lrDir, 'logrotate.conf')}'`);
  const lrOut = gzBytes(lrDir);
  const ctDir = fresh('caretaker');
  const ct = await timed(() => runRotateLogs(ctDir, { paths: ['logs/*.log'], rotate: 4, compress: true }));
  const ctOut = gzBytes(ctDir);
  rows.push({ round, lr, ct, lrOut, ctOut });
}
const total = (FILES * SIZE) / 1024 ** 2;
console.log(
  `\n### rotate-logs: ${FILES} logs x ${SIZE / 1024 ** 2} MB (${total} MB) with compress${quick ? ' (--quick)' : ''}\n`,
);
console.log(
  '| round | logrotate -f | caretaker rotate-logs | ratio (caretaker / logrotate) | .gz bytes logrotate | .gz bytes caretaker |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.round} | ${fmt(r.lr)} | ${fmt(r.ct)} | ${(r.ct.wall / r.lr.wall).toFixed(2)}x | ${r.lrOut} | ${r.ctOut} |`,
  );
const best = (k) => Math.min(...rows.map((r) => r[k].wall));
console.log(
  `\nbest of ${rows.length}: logrotate ${best('lr').toFixed(2)} s, caretaker ${best('ct').toFixed(2)} s, ratio ${(best('ct') / best('lr')).toFixed(2)}x (goal <= 0.65x); load average now ${machine().load}`,
);
rmSync(join(work, 'logrotate'), { recursive: true, force: true });
rmSync(join(work, 'caretaker'), { recursive: true, force: true });
