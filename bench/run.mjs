#!/usr/bin/env node
// Runs the benchmarks: every bench/<area>/*.bench.mjs, or those whose path contains an argument.
//   npm run bench                 all of them, full size
//   npm run bench -- --quick      all, small sizes (a smoke run)
//   npm run bench -- core/fire    only matching files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory() && !d.startsWith('.') && d !== 'results')
  .flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.bench.mjs'))
      .map((f) => join(root, d, f)),
  )
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

console.log(`# caretaker benchmarks${quick ? ' (quick)' : ''}\n`);
console.log(
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
);
let failed = 0;
for (const file of files) {
  console.log(`## ${relative(root, file)}\n`);
  const r = spawnSync(process.execPath, [file, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`\n(${relative(root, file)} exited with ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);
