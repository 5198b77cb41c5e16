// Takeover time after SIGKILL of a cluster slot's holder, with real daemons: three `caretaker
// start` processes (hosts a, b, c, each its own directory and state dir) on one PostgreSQL schema,
// a `scope: cluster` task running `sleep 60` on a periodic 6-field cron (UTC). Each trial waits for
// a slot to start on one host, SIGKILLs that daemon at a random point of its heartbeat period,
// and measures the time from the kill until another host's run of the same slot is `running`
// (runs.started_at), split into the takeover decision (claims.claimed_at) and the run's start.
// The killed host is restarted and takes part in the next trials; both sleeps of the slot (the
// orphan and the takeover's) are killed so that the next slot starts on an idle fleet.
// Goal: takeover <= lease + 2 s.
//   node bench/fleet/takeover.bench.mjs [--trials 20] [--lease 15s,2s] [--quick]
//   (CARETAKER_BENCH_PG_URL to override the database)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { fmt, loadLine, machineLine, median } from '../support/machine.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const URL = process.env.CARETAKER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

function bad(msg) {
  console.error(`takeover.bench: ${msg}`);
  process.exit(2);
}

/** "15s", "2000ms", "1m" → ms. */
function duration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) bad(`--lease: "${text}" is not a duration (expected e.g. 15s, 2s, 1500ms)`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]]);
}

const trials = Number(flag('trials', quick ? '3' : '20'));
if (!Number.isInteger(trials) || trials < 1)
  bad(`--trials: expected a whole number >= 1, got "${flag('trials')}"`);
const leases = flag('lease', quick ? '2s' : '15s,2s')
  .split(',')
  .map(duration);

const pool = new pg.Pool({ connectionString: URL, max: 2 });
const q = async (text, values = []) => (await pool.query(text, values)).rows;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, timeoutMs, fn) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${fmt(timeoutMs)} waiting for ${what}`);
    await sleep(50);
  }
}

function killGroup(pgid) {
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function startDaemon(dir, host) {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { host, dir, child, exited, output: () => output };
}

/** The seconds between slots: room for the kill, the takeover, the cleanup and a restart. */
function periodFor(leaseMs) {
  const need = (leaseMs * 5) / 3 + 3_000;
  return [5, 10, 15, 20, 30, 60].find((p) => p * 1000 >= need) ?? 60;
}

async function measure(leaseMs) {
  const heartbeatMs = Math.round(leaseMs / 3);
  const period = periodFor(leaseMs);
  const schema = `ct_bench_takeover_${randomBytes(4).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'ct-bench-takeover-'));
  const body =
    `lease: ${leaseMs}ms\nshutdown_grace: 1s\n` +
    'tasks:\n' +
    `  long: { action: shell, schedule: "*/${period} * * * * *", timezone: UTC, scope: cluster, takeover: rerun, with: { command: "sleep 60" } }\n`;
  const daemons = new Map();
  const results = [];
  const problems = [];
  try {
    for (const host of ['a', 'b', 'c']) {
      const dir = join(root, host);
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'caretaker.yaml'),
        `version: 1\nstore: ${URL}\nstore_schema: ${schema}\nhost: ${host}\n${body}`,
      );
      daemons.set(host, startDaemon(dir, host));
      // One at a time: the first migrates the schema, the others find it done.
      await waitFor(`host ${host} to register`, 30_000, async () => {
        if (daemons.get(host).child.exitCode !== null)
          throw new Error(`daemon ${host} exited: ${daemons.get(host).output()}`);
        const rows = await q(`SELECT pid FROM "${schema}".hosts WHERE name = $1 AND stopped_at IS NULL`, [
          host,
        ]).catch(() => []);
        return rows[0]?.pid === daemons.get(host).child.pid;
      });
    }
    let lastSlot = 0;
    for (let trial = 1; trial <= trials; trial++) {
      // A scheduled (not a takeover's) run of a slot after the last trial's, running on its holder.
      const first = await waitFor(`trial ${trial}: a slot to start`, period * 3_000, async () => {
        const rows = await q(
          `SELECT id, host, scheduled_for, started_at FROM "${schema}".runs
           WHERE task = 'long' AND status = 'running' AND trigger = 'schedule' AND scheduled_for > $1
           ORDER BY scheduled_for LIMIT 1`,
          [lastSlot],
        );
        return rows[0];
      });
      const slot = Number(first.scheduled_for);
      const victim = daemons.get(first.host);
      // At a random point of the holder's heartbeat period (after its run started).
      await sleep(Math.max(0, Number(first.started_at) + Math.random() * heartbeatMs - Date.now()));
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      const second = await waitFor(
        `trial ${trial}: another host to take the slot over`,
        leaseMs * 3 + 15_000,
        async () => {
          const rows = await q(
            `SELECT id, host, trigger, started_at, child_pgid FROM "${schema}".runs
           WHERE task = 'long' AND scheduled_for = $1 AND id <> $2 AND started_at IS NOT NULL
           ORDER BY id LIMIT 1`,
            [slot, first.id],
          );
          return rows[0];
        },
      );
      const [claim] = await q(
        `SELECT host, claimed_at, takeovers FROM "${schema}".claims WHERE task = 'long' AND slot = $1`,
        [slot],
      );
      const totalMs = Number(second.started_at) - killedAt;
      results.push({
        trial,
        slot,
        from: first.host,
        to: second.host,
        totalMs,
        decideMs: Number(claim.claimed_at) - killedAt,
        startMs: Number(second.started_at) - Number(claim.claimed_at),
        sinceStartMs: killedAt - Number(first.started_at),
      });
      if (second.host === first.host)
        problems.push(`trial ${trial}: the slot was rerun on the killed host ${first.host}`);
      if (claim.takeovers !== 1) problems.push(`trial ${trial}: takeovers = ${claim.takeovers}`);
      // The orphan sleep of the killed daemon, and the takeover's (its run ends failed, the slot done).
      const [orphan] = await q(`SELECT child_pgid FROM "${schema}".runs WHERE id = $1`, [first.id]);
      killGroup(orphan?.child_pgid);
      const pgid = await waitFor(`trial ${trial}: the takeover's child`, 10_000, async () => {
        const [r] = await q(`SELECT child_pgid FROM "${schema}".runs WHERE id = $1`, [second.id]);
        return r?.child_pgid;
      });
      killGroup(pgid);
      const old = await waitFor(`trial ${trial}: the old run to be marked`, 10_000, async () => {
        const [r] = await q(`SELECT status, reason FROM "${schema}".runs WHERE id = $1`, [first.id]);
        return r?.status !== 'running' && r;
      });
      if (old.status !== 'interrupted')
        problems.push(`trial ${trial}: the killed run is ${old.status}, not interrupted`);
      // The killed host comes back and takes part in the next trials.
      daemons.set(first.host, startDaemon(victim.dir, first.host));
      lastSlot = slot;
      console.error(
        `  lease ${fmt(leaseMs)} trial ${trial}/${trials}: ${first.host} → ${second.host} in ${fmt(totalMs)} (load ${loadLine()})`,
      );
    }
    // Every trial's slot: the killed run and one takeover run, nothing else.
    for (const r of results) {
      const rows = await q(
        `SELECT id, host, status FROM "${schema}".runs WHERE task = 'long' AND scheduled_for = $1`,
        [r.slot],
      );
      if (rows.length !== 2)
        problems.push(`slot ${new Date(r.slot).toISOString()}: ${rows.length} runs: ${JSON.stringify(rows)}`);
    }
  } finally {
    for (const d of daemons.values()) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
    }
    await Promise.race([Promise.all([...daemons.values()].map((d) => d.exited)), sleep(10_000)]);
    for (const d of daemons.values())
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    const orphans = await q(`SELECT child_pgid FROM "${schema}".runs WHERE child_pgid IS NOT NULL`).catch(
      () => [],
    );
    for (const o of orphans) killGroup(o.child_pgid);
    await q(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
  return { leaseMs, heartbeatMs, period, results, problems };
}

console.log(`Machine: ${machineLine()}\n`);
const all = [];
for (const leaseMs of leases) {
  const before = loadLine();
  const r = await measure(leaseMs);
  all.push({ ...r, load: `${before} → ${loadLine()}` });
}
await pool.end();

console.log(
  '| lease | heartbeat | trials | takeover p50 | p90 | max | min | of which: decision p50 / max | run start p50 / max | load before → after | goal (lease + 2 s) | met? |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of all) {
  const t = r.results.map((x) => x.totalMs).sort((a, b) => a - b);
  const d = r.results.map((x) => x.decideMs);
  const s = r.results.map((x) => x.startMs);
  const p90 = t[Math.min(t.length - 1, Math.ceil(t.length * 0.9) - 1)];
  const goal = r.leaseMs + 2000;
  console.log(
    `| ${fmt(r.leaseMs)} | ${fmt(r.heartbeatMs)} | ${t.length} | ${fmt(median(t))} | ${fmt(p90)} | ${fmt(t.at(-1))} | ${fmt(t[0])} | ${fmt(median(d))} / ${fmt(Math.max(...d))} | ${fmt(median(s))} / ${fmt(Math.max(...s))} | ${r.load} | ≤ ${fmt(goal)} | ${t.at(-1) <= goal ? 'yes' : 'no'} |`,
  );
}
console.log(
  '\nTakeover: from the SIGKILL of the holding daemon to runs.started_at of another host’s run of the slot; decision: to the takeover of the claim (claims.claimed_at); run start: from there to started_at. Expected window: lease − heartbeat … lease + heartbeat (the kill lands anywhere in the holder’s beat period, the next beat of another host finds the lease ended).',
);
for (const r of all) {
  console.log(
    `\nlease ${fmt(r.leaseMs)} (slots every ${r.period} s), per trial (from → to: takeover; killed this long after its run started):`,
  );
  console.log(
    r.results.map((x) => `${x.from}→${x.to} ${fmt(x.totalMs)} (+${fmt(x.sinceStartMs)})`).join(' · '),
  );
  if (r.problems.length) console.log(`PROBLEMS: ${r.problems.join('; ')}`);
  else
    console.log(
      'Every trial: the killed run interrupted, one takeover run on another host, no third run, takeovers = 1.',
    );
}
if (all.some((r) => r.problems.length)) process.exitCode = 1;
