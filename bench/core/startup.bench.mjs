// Start-up of the CLI, as ratios against `node -e 0` measured in the same run (the machine is
// shared: absolute times move with load, ratios much less). Each round runs every command once,
// interleaved, so a burst of load hits all of them alike; the table shows medians.
// Goals: `status` against a daemon holding 200 tasks ≤ 2.0×, `--version` ≤ 1.3×,
// `validate` of the demo config ≤ 3×.
// Runs on the Node it is started with and again on Node 22 where .ci/run installs it (users run
// 22 and 24; Node 22 has the compile cache, 20 has not). `--before PATH` (another build's
// dist/cli/main.js, e.g. main's in a copy) adds its `validate` to the same interleaved rounds.
// Usage: npm run build && node bench/core/startup.bench.mjs [--quick] [--before PATH]
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadLine, machineLine } from '../support/machine.mjs';
import { BIN, ROOT, median, percentile, quick, startDaemon, tmp, waitFor } from './support.mjs';

// The machine is shared: the load before the run is printed with the result, next to the one after.
const loadBefore = loadLine();
// At least 10 rounds even with --quick: the goals are read on medians of 10 or more.
const rounds = quick ? 11 : 21;
const dir = tmp('ct-bench-startup-');
const tasks = Array.from(
  { length: 200 },
  (_, i) => `  t${i}: { action: shell, schedule: "${i % 60} ${i % 24} * * *", with: { command: "true" } }`,
);
const config = join(dir, 'caretaker.yaml');
writeFileSync(config, `version: 1\ntasks:\n${tasks.join('\n')}\n`);
const daemon = startDaemon(config);
await waitFor(() => existsSync(join(dir, '.caretaker', 'control.sock')));

const demo = join(ROOT, 'examples/demo/caretaker.yaml');
const beforeAt = process.argv.indexOf('--before');
const before = beforeAt > 0 ? process.argv[beforeAt + 1] : undefined;
const cases = [
  { name: '`node -e 0`', args: null },
  { name: '`caretaker --version`', args: ['--version'], goal: 1.3 },
  { name: '`caretaker validate` (demo config)', args: ['validate', '-c', demo], goal: 3 },
  { name: '`caretaker status` (daemon, 200 tasks)', args: ['status', '-c', config], goal: 2 },
  { name: '`caretaker list-tasks` (daemon, 200 tasks)', args: ['list-tasks', '-c', config] },
  { name: '`caretaker history --limit 20` (daemon)', args: ['history', '--limit', '20', '-c', config] },
  ...(before
    ? [
        {
          name: '`caretaker validate` (demo config), the --before build',
          bin: before,
          args: ['validate', '-c', demo],
        },
      ]
    : []),
];

const node22 = join(
  process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
  'caretaker-ci/node22/node_modules/.bin/node',
);
const nodes = [process.execPath];
if (existsSync(node22) && !process.version.startsWith('v22.')) nodes.push(node22);

// CPU time (user + system, from /usr/bin/time) moves less with the machine's load than wall time.
const TIME = '/usr/bin/time';
function once(node, args) {
  const argv = [node, ...(args ?? ['-e', '0'])];
  const t = performance.now();
  const r = spawnSync(TIME, ['-f', '%U %S', ...argv], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (user + sys) * 1000 };
}

console.log(`Load average before: ${loadBefore}; ${machineLine()}; ${rounds} rounds, interleaved.\n`);
for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const times = cases.map(() => []);
  const cpus = cases.map(() => []);
  for (let round = 0; round < rounds + 1; round++) {
    cases.forEach((c, i) => {
      const { ms, cpu } = once(node, c.args && [c.bin ?? BIN, ...c.args]);
      if (round === 0) return; // round 0 warms the page cache (and the compile cache)
      times[i].push(ms);
      cpus[i].push(cpu);
    });
  }
  const base = median(times[0]);
  const baseCpu = median(cpus[0]);
  console.log(`Node ${version} (the daemon runs on ${process.version}):\n`);
  console.log(
    '| command | wall, median | p90 | ratio to `node -e 0` | CPU, median | CPU ratio | goal (wall) | met? |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  cases.forEach((c, i) => {
    const m = median(times[i]);
    const ratio = m / base;
    const cpu = median(cpus[i]);
    console.log(
      `| ${c.name} | ${m.toFixed(0)} ms | ${percentile(times[i], 0.9).toFixed(0)} ms | ${ratio.toFixed(2)}× | ${cpu.toFixed(0)} ms | ${(cpu / baseCpu).toFixed(2)}× | ${c.goal ? `≤ ${c.goal}×` : ''} | ${c.goal ? (ratio <= c.goal ? 'yes' : 'no') : ''} |`,
    );
  });
  console.log('');
}
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));
console.log(`Load average after: ${loadLine()}`);
console.log('\n/usr/bin/time counts CPU in 10 ms ticks.');
console.log('');
