// Run as PID 1 of a new PID namespace, where nothing reaps orphans (Node never does): a command
// whose children outlive their shell is aborted, and this prints how long the run took to end
// and how many zombies of its group were left. argv[2]: the dist/ directory.
import { readdirSync, readFileSync } from 'node:fs';

const dist = process.argv[2];
const { runInProcessGroup } = await import(`${dist}/os/process-group.js`);
const { SystemClock } = await import(`${dist}/engine/clock.js`);

function members(pgid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) out.push(f[0]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const ac = new AbortController();
const started = Date.now();
const hung = setTimeout(() => {
  console.log(JSON.stringify({ pid: process.pid, hung: true, ms: Date.now() - started }));
  process.exit(3);
}, 8_000);
const r = await runInProcessGroup({
  command: 'sleep 30 & sleep 30 & echo up; wait',
  cwd: '/',
  env: process.env,
  signal: ac.signal,
  killGraceMs: 500,
  clock: new SystemClock(),
  onOutput: (t) => {
    if (t.includes('up')) ac.abort();
  },
});
clearTimeout(hung);
const left = members(r.pid);
console.log(
  JSON.stringify({
    pid: process.pid,
    hung: false,
    aborted: r.aborted,
    ms: Date.now() - started,
    zombies: left.filter((s) => s === 'Z').length,
    live: left.filter((s) => s !== 'Z').length,
  }),
);
process.exit(0);
