#!/usr/bin/env node
// What each step of a start-up path costs: imports the given modules one after the other in a
// fresh process (each step pays only for what the steps before it did not load), several times,
// and prints the median time of each step and the modules it added.
// Usage: node bench/support/import-costs.mjs [--runs N] SPECIFIER...
//   a specifier is a package name or a path (relative paths resolve against the current dir)
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 9;
const specs = args
  .filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1))
  .map((s) => (s.startsWith('.') || s.startsWith('/') ? pathToFileURL(resolve(s)).href : s));

const child = `
const specs = ${JSON.stringify(specs)};
const out = [];
for (const s of specs) {
  const before = process.moduleLoadList.length;
  const t = performance.now();
  await import(s);
  out.push({ ms: performance.now() - t, builtins: process.moduleLoadList.length - before });
}
console.log(JSON.stringify(out));`;

const samples = specs.map(() => []);
let builtins = [];
for (let r = 0; r < runs; r++) {
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(p.stderr);
  const steps = JSON.parse(p.stdout);
  steps.forEach((s, i) => samples[i].push(s.ms));
  builtins = steps.map((s) => s.builtins);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
let total = 0;
console.log(`| step | median ms | node internals added |\n|---|---:|---:|`);
specs.forEach((s, i) => {
  const m = median(samples[i]);
  total += m;
  console.log(`| ${s.replace(/^file:\/\/.*\/dist\//, 'dist/')} | ${m.toFixed(1)} | ${builtins[i]} |`);
});
console.log(`| total | ${total.toFixed(1)} | |`);
