// Run as PID 1 of a new PID namespace: hands PID 1 to the reaper (os/pid1-reaper.ts), then
// leaves two orphans (a shell that exits before its background sleeps) and reports, once they
// have died, the zombies left. argv[2]: the dist/ directory; argv[3]: `orphans` or `wait-term`;
// EXIT_CODE: the code to exit with. Opens no store (better-sqlite3 does not load on every Node).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const [dist, mode] = process.argv.slice(2);
const { reapOrphansAsPid1 } = await import(`${dist}/os/pid1-reaper.js`);
const outcome = reapOrphansAsPid1();
const who = { pid: process.pid, ppid: process.ppid, outcome, env: process.env.CARETAKER_PID1_REAPER ?? null };

function procs() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.push({ pid: Number(name), comm, state: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

if (mode === 'wait-term') {
  process.on('SIGTERM', () => {
    console.log(JSON.stringify({ ...who, got: 'SIGTERM' }));
    process.exit(Number(process.env.EXIT_CODE ?? 0));
  });
  console.log(JSON.stringify({ ...who, ready: true }));
  setTimeout(() => process.exit(9), 20_000);
} else {
  spawn('/bin/sh', ['-c', 'sleep 0.2 & sleep 0.2 & exit 0'], { stdio: 'ignore' });
  const started = Date.now();
  const poll = () => {
    const sleeping = procs().filter((p) => p.comm === 'sleep' && p.state !== 'Z');
    const zombies = procs().filter((p) => p.state === 'Z');
    // Done when the sleeps have ended and either nothing is left to reap or 2 s have passed.
    if ((sleeping.length === 0 && zombies.length === 0) || Date.now() - started > 2_500) {
      console.log(JSON.stringify({ ...who, zombies: zombies.map((z) => z.comm) }));
      process.exit(Number(process.env.EXIT_CODE ?? 0));
    }
    setTimeout(poll, 50);
  };
  setTimeout(poll, 250);
}
