#!/usr/bin/env node
// Reads a V8 CPU profile (`node --cpu-prof --cpu-prof-dir=DIR …`) and prints where the time went,
// grouped by what a start-up cut would remove: an npm package, a file of caretaker's own, node's
// internals, the garbage collector, or "(program)" (compiling and V8 itself).
// Usage: node bench/support/profile-summary.mjs FILE.cpuprofile [--top N] [--files]
//   --files  group caretaker's own code by file, not by folder
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: profile-summary.mjs FILE.cpuprofile [--top N] [--files]');
  process.exit(2);
}
const top = Number(args[args.indexOf('--top') + 1]) || 25;
const byFile = args.includes('--files');
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** The unit a call frame's time is charged to. */
function unitOf(frame) {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const own = /\/(?:dist|src)\/(.+)\.[jt]s$/.exec(url);
  if (own) return byFile ? own[1] : `${own[1].split('/').slice(0, -1).join('/') || '.'}/`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
// Sample intervals are in µs; each sample is charged to the node that was on top.
const counts = new Map();
profile.samples.forEach((id, i) => {
  counts.set(id, (counts.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
let total = 0;
for (const [id, us] of counts) {
  const unit = unitOf(nodes.get(id).callFrame);
  self.set(unit, (self.get(unit) ?? 0) + us);
  total += us;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
console.log('| self time | share | charged to |');
console.log('|---:|---:|---|');
for (const [unit, us] of rows)
  console.log(`| ${(us / 1000).toFixed(1)} ms | ${((100 * us) / total).toFixed(1)}% | ${unit} |`);
