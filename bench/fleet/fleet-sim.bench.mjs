// A simulated fleet against the real PostgreSQL: 500 light hosts in a few worker processes, each
// host with its own instance id and the real store code (PgStore from dist/), the hosts of one
// process sharing its small pool (as a pgbouncer would share server connections). Each host does
// what a daemon's FleetMember and engine do, on the same statements:
//   - every second, at its own phase, FleetMember's look: a heartbeat every 5 s (lease 15 s; every
//     third beat listHosts()), listPauses(), then scanClaims() (expired claims, and which of the
//     slots it let its first candidates claim no host claimed: those it claims);
//   - 20 host-task runs a minute (one every 3 s): insertRun (claiming its fire), startRun, finishRun;
//   - 100 cluster tasks with a slot every 10 s, which every host claims: as the engine does
//     (--claim batch, the default), the slots due at one instant that this host is a first
//     candidate for (core/slot-candidates) in one claimSlots statement, the rest asked about at
//     its look after their fallback time; or (--claim single, the engine before
//     2026-12-06) one claimSlot per slot and a claimFire per lost slot. The winner records its
//     run (insertRun, attachRun, startRun, finishRun) and releases the slot done.
// Cluster slots are whole seconds (the scheduler's precision): task i on second i mod 10 of every
// 10 s (--align seconds, the default: 10 slots at each second), spread over the 10 s at +i × 100
// ms (--align spread: one slot per instant), or all on one instant (--align burst).
// Measured: claims/s, claimSlot latency (from the call, pool wait included) p50/p99, duplicate runs
// (by the winners counted in the workers, and in the claims and runs tables), the CPU of the
// PostgreSQL backends serving the fleet (/proc/PID/stat, found by application_name), heartbeat
// latency. Goals: claim p99 < 50 ms; duplicates 0.
//   node bench/fleet/fleet-sim.bench.mjs [--hosts 500] [--workers 5] [--pool 6] [--seconds 120]
//     [--tasks 100] [--align seconds|spread|burst] [--claim batch|single] [--no-claim-fire]
//     [--quick]
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadLine, machineLine } from '../support/machine.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BASE_URL = process.env.CARETAKER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APP = 'ct-fleet-sim';
const URL = `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}application_name=${APP}`;
const LEASE_MS = 15_000;
const HEARTBEAT_MS = 5_000;
const HOST_RUN_EVERY_MS = 3_000; // 20 a minute
const HOST_TASKS = 20;
const CLUSTER_EVERY_MS = 10_000;
const HOSTS_EVERY_BEATS = 3;
const SCAN_EVERY_MS = 1_000;

const args = process.argv.slice(2);
const { PgStore } = await import(join(ROOT, 'dist/store/postgres/pg-store.js'));
const { isSlotCandidate, fallbackDelayMs } = await import(join(ROOT, 'dist/core/slot-candidates.js'));

// ---------------------------------------------------------------------------------------------
async function main() {
  const quick = args.includes('--quick');
  const flag = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const int = (name, fallback) => {
    const v = Number(flag(name, String(fallback)));
    if (!Number.isInteger(v) || v < 1) {
      console.error(`fleet-sim.bench: --${name}: expected a whole number >= 1, got "${flag(name)}"`);
      process.exit(2);
    }
    return v;
  };
  const hosts = int('hosts', quick ? 100 : 500);
  const workers = Math.min(hosts, int('workers', quick ? 2 : 5));
  const poolSize = int('pool', 6);
  const seconds = int('seconds', quick ? 20 : 120);
  const tasks = int('tasks', 100);
  const align = flag('align', 'seconds');
  if (!['seconds', 'spread', 'burst'].includes(align)) {
    console.error(`fleet-sim.bench: --align: expected seconds, spread or burst, got "${align}"`);
    process.exit(2);
  }
  const claimMode = flag('claim', 'batch');
  if (!['batch', 'single'].includes(claimMode)) {
    console.error(`fleet-sim.bench: --claim: expected batch or single, got "${claimMode}"`);
    process.exit(2);
  }
  const claimFire = !args.includes('--no-claim-fire');
  const schema = `ct_bench_sim_${randomBytes(4).toString('hex')}`;

  console.log(`Machine: ${machineLine()}\n`);
  // Migrate once, before the workers open the schema.
  const admin = await PgStore.open({ url: BASE_URL, schema, maxConnections: 2 });
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.once(sig, () => {
      console.error(`fleet-sim.bench: ${sig}: dropping schema ${schema}`);
      admin.sql(`DROP SCHEMA $S CASCADE`).finally(() => process.exit(1));
    });
  // The machine's floor: one host alone, claiming one slot after another on one connection.
  const alone = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await admin.claimSlot({
      task: 'alone',
      slot: i,
      host: 'alone',
      instance: 'alone',
      now: Date.now(),
      leaseMs: LEASE_MS,
    });
    alone.push(performance.now() - t);
  }
  const loadBefore = loadLine();
  let results;
  let cpu;
  let checks;
  try {
    // The first window a few seconds from now, on a 10 s boundary: every worker ready before it.
    const t0 = Math.ceil((Date.now() + 4_000 + workers * 1_500) / CLUSTER_EVERY_MS) * CLUSTER_EVERY_MS;
    const tEnd = t0 + seconds * 1000;
    const children = [];
    for (let w = 0; w < workers; w++) {
      const mine = [];
      for (let h = w; h < hosts; h += workers) mine.push(h);
      const child = fork(import.meta.filename, ['--worker'], { serialization: 'advanced' });
      child.send({
        schema,
        url: URL,
        hosts: mine,
        totalHosts: hosts,
        poolSize,
        t0,
        tEnd,
        tasks,
        align,
        claimFire,
        claimMode,
      });
      children.push(
        new Promise((res, rej) => {
          child.on('message', res);
          child.on('exit', (code) => code !== 0 && rej(new Error(`worker ${w} exited with ${code}`)));
        }),
      );
    }
    cpu = await sampleBackendCpu(admin, t0, children);
    results = await Promise.all(children);
    checks = await check(admin, schema, results);
  } finally {
    await admin.sql(`DROP SCHEMA $S CASCADE`).catch(() => {});
    await admin.close();
  }
  report({
    alone,
    hosts,
    workers,
    poolSize,
    seconds,
    tasks,
    align,
    claimFire,
    claimMode,
    loadBefore,
    results,
    cpu,
    checks,
  });
  if (checks.duplicates > 0 || checks.dupRuns > 0) process.exitCode = 1;
}

/** A process's CPU seconds so far (utime + stime of /proc/PID/stat, USER_HZ 100), or undefined. */
function cpuSecondsOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Every postgres process's CPU seconds now (pid → seconds). */
function allPostgres(read) {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const s = read(d);
    if (s !== undefined) out.set(d, s);
  }
  return out;
}

/**
 * The CPU of the PostgreSQL backends serving the simulated fleet (application_name), from t0
 * until the workers are done (the window and its drain): sampled every second; a backend first seen after t0 counts from zero, one that went away
 * keeps its last sample. Also every postgres process of the machine (other users' included).
 */
async function sampleBackendCpu(admin, t0, children) {
  const read = cpuSecondsOf;
  const base = new Map();
  const last = new Map();
  let allBefore;
  // Every postgres process's latest sample (a backend that exits keeps its last one).
  const allLast = new Map();
  let done = false;
  Promise.allSettled(children).then(() => (done = true));
  let based = false;
  // Until the workers are done: the window, and the drain of its backlog after it.
  while (!done) {
    const now = Date.now();
    if (!based && now >= t0) {
      allBefore = allPostgres(read);
      for (const [pid, s] of last) base.set(pid, read(pid) ?? s);
      based = true;
    }
    if (based) for (const [pid, v] of allPostgres(read)) allLast.set(pid, v);
    const pids = (await admin.sql(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [APP])).map(
      (r) => String(r.pid),
    );
    for (const pid of pids) {
      const s = read(pid);
      if (s === undefined) continue;
      last.set(pid, s);
      if (!based) continue;
      if (!base.has(pid)) base.set(pid, 0);
    }
    await new Promise((r) => setTimeout(r, based ? 1000 : Math.min(1000, Math.max(10, t0 - Date.now()))));
  }
  for (const [pid, v] of allPostgres(read)) allLast.set(pid, v);
  for (const [pid] of last) {
    const s = read(pid);
    if (s !== undefined) last.set(pid, s);
  }
  let fleet = 0;
  for (const [pid, s] of last) fleet += s - (base.get(pid) ?? s);
  let all = 0;
  for (const [pid, s] of allLast) all += s - (allBefore?.get(pid) ?? 0);
  return { fleet, all, backends: last.size };
}

async function check(admin, schema, results) {
  const winners = new Map();
  for (const r of results) for (const k of r.won) winners.set(k, (winners.get(k) ?? 0) + 1);
  const duplicates = [...winners.values()].filter((n) => n > 1).length;
  const [claims] = await admin.sql(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE state = 'held')::int AS held,
       count(*) FILTER (WHERE state = 'done')::int AS done FROM $S.claims WHERE task LIKE 'cluster-%'`,
  );
  const [dupClaims] = await admin.sql(
    `SELECT count(*)::int AS n FROM (SELECT task, slot FROM $S.claims GROUP BY 1, 2 HAVING count(*) > 1) d`,
  );
  const [dupRuns] = await admin.sql(
    `SELECT count(*)::int AS n FROM (SELECT task, scheduled_for FROM $S.runs WHERE task LIKE 'cluster-%'
       GROUP BY 1, 2 HAVING count(*) > 1) d`,
  );
  const [runs] = await admin.sql(
    `SELECT count(*) FILTER (WHERE task LIKE 'cluster-%')::int AS cluster, count(*) FILTER (WHERE task LIKE 'host-%')::int AS host,
       count(*) FILTER (WHERE status <> 'success')::int AS unfinished FROM $S.runs`,
  );
  const expected = results.reduce((n, r) => Math.max(n, r.slotsOffered), 0);
  return {
    schema,
    duplicates,
    winners: winners.size,
    expected,
    claims,
    dupClaims: dupClaims.n,
    dupRuns: dupRuns.n,
    runs,
  };
}

const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const ms = (v) => (Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const n0 = (v) => Math.round(v).toLocaleString('en-US');

function report(o) {
  const cat = (k) => o.results.flatMap((r) => Array.from(r.lat[k]));
  const sum = (k) => o.results.reduce((n, r) => n + r.count[k], 0);
  const err = o.results.flatMap((r) => r.errors);
  const claim = cat('claim');
  const hb = cat('heartbeat');
  const beat = cat('beat');
  const late = cat('clusterLate');
  const hostRun = cat('hostRun');
  const workerCpu = o.results.reduce((n, r) => n + r.cpuSeconds, 0);
  const cores = Number(machineLine().split(' ')[0]);
  // CPU is measured over the window and the drain after it.
  const span = o.seconds + Math.max(...o.results.map((r) => r.count.drainSeconds));
  const share = (s) =>
    `${((s / (span * cores)) * 100).toFixed(1)} % of the machine (${((s / span) * 100).toFixed(0)} % of a core) over ${span.toFixed(0)} s`;
  console.log(
    `${o.hosts} hosts in ${o.workers} processes (pool of ${o.poolSize} each, ${o.workers * o.poolSize} connections), ${o.seconds} s, ` +
      `${o.tasks} cluster tasks every 10 s (${o.align}), ${o.claimMode === 'batch' ? 'the slots of an instant claimed in one claimSlots statement per host' : `one claimSlot per slot, losers ${o.claimFire ? 'record the passed fire (claimFire)' : 'write nothing'}`}; ` +
      `load ${o.loadBefore} → ${loadLine()}\n`,
  );
  console.log('| measure | value | goal | met? |');
  console.log('|---|---|---|---|');
  const rows = [
    [
      'claimSlot latency, one host alone before the fleet starts (the machine’s floor) p50 / p99',
      `${ms(pct(o.alone, 50))} / ${ms(pct(o.alone, 99))}`,
      '',
      '',
    ],
    [
      'slot claims issued in the window',
      `${n0(sum('claimsIssued'))} (${n0(sum('claimsIssued') / o.seconds)}/s)`,
      '',
      '',
    ],
    [
      'slot claims answered (in the window and the drain after it)',
      `${n0(claim.length)} (${n0(claim.length / (o.seconds + Math.max(...o.results.map((r) => r.count.drainSeconds))))}/s over ${(o.seconds + Math.max(...o.results.map((r) => r.count.drainSeconds))).toFixed(0)} s)`,
      '',
      '',
    ],
    [
      'claim latency at the slot’s instant (batch mode: the first candidates’ claimSlots statement) p50 / p99 / max',
      `${ms(pct(claim, 50))} / ${ms(pct(claim, 99))} / ${ms(pct(claim, 100))}`,
      'p99 < 50 ms',
      pct(claim, 99) < 50 ? 'yes' : 'no',
    ],
    [
      'slots asked about at the look after their fallback time (hosts not first candidates) / found unclaimed and claimed then',
      `${n0(sum('fallbackAsked'))} / ${n0(sum('fallbackClaimed'))}`,
      '',
      '',
    ],
    [
      'slots won (distinct) / offered',
      `${n0(o.checks.winners)} / ${n0(o.checks.expected)}; claims table ${n0(o.checks.claims.n)} rows, ${o.checks.claims.done} done, ${o.checks.claims.held} held`,
      'all won once',
      o.checks.winners === o.checks.expected && o.checks.claims.held === 0 ? 'yes' : 'no',
    ],
    [
      'duplicate runs: slots won by > 1 host (workers) / claims rows per slot > 1 / cluster runs per slot > 1',
      `${o.checks.duplicates} / ${o.checks.dupClaims} / ${o.checks.dupRuns}`,
      '0',
      o.checks.duplicates + o.checks.dupClaims + o.checks.dupRuns === 0 ? 'yes' : 'no',
    ],
    [
      'cluster run start after its slot p50 / p99 / max',
      `${ms(pct(late, 50))} / ${ms(pct(late, 99))} / ${ms(pct(late, 100))}`,
      '',
      '',
    ],
    [
      'heartbeat statement p50 / p99 / max',
      `${ms(pct(hb, 50))} / ${ms(pct(hb, 99))} / ${ms(pct(hb, 100))} (${n0(hb.length / o.seconds)}/s)`,
      '',
      '',
    ],
    [
      'whole look (heartbeat every 5 s, listHosts every 3rd, listPauses, scanClaims) p50 / p99',
      `${ms(pct(beat, 50))} / ${ms(pct(beat, 99))}`,
      '',
      '',
    ],
    ['late heartbeats (next beat due before the last ended)', `${sum('lateBeats')}`, '', ''],
    [
      'operations in flight when the window ended (backlog) / still unanswered after up to a minute of draining',
      `${n0(sum('backlogAtEnd'))} / ${n0(sum('undrained'))}`,
      'backlog ≈ one slot’s claims',
      '',
    ],
    [
      'host-task run bookkeeping (3 statements) p50 / p99',
      `${ms(pct(hostRun, 50))} / ${ms(pct(hostRun, 99))} (${n0(hostRun.length / o.seconds)} runs/s)`,
      '',
      '',
    ],
    [
      'runs recorded (host tasks / cluster)',
      `${n0(o.checks.runs.host)} / ${n0(o.checks.runs.cluster)}, ${o.checks.runs.unfinished} not finished`,
      '',
      '',
    ],
    [
      'statements answered (window and drain)',
      `${n0(sum('statements'))} (${n0(sum('statements') / span)}/s)`,
      '',
      '',
    ],
    [
      'statements per CPU-second of the fleet’s backends / of the simulating processes',
      `${n0(sum('statements') / o.cpu.fleet)} / ${n0(sum('statements') / workerCpu)}`,
      '',
      '',
    ],
    [
      'PostgreSQL CPU: the fleet’s backends',
      `${o.cpu.fleet.toFixed(1)} s over ${o.cpu.backends} backends = ${share(o.cpu.fleet)}`,
      '',
      '',
    ],
    [
      'PostgreSQL CPU: every postgres process (other users’ too)',
      `${o.cpu.all.toFixed(1)} s = ${share(o.cpu.all)}`,
      '',
      '',
    ],
    ['simulating processes’ CPU (client side)', `${workerCpu.toFixed(1)} s = ${share(workerCpu)}`, '', ''],
    ['errors', err.length ? `${err.length}: ${err[0]}` : '0', '0', err.length ? 'no' : 'yes'],
  ];
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(
    '\nclaimSlot latency is from the call to its answer, waiting for one of the process’s pooled connections included (the burst of a slot: every host of the process claims at once).',
  );
}

// ---------------------------------------------------------------------------------------------
async function worker() {
  const o = await new Promise((r) => process.once('message', r));
  const store = await PgStore.open({ url: o.url, schema: o.schema, maxConnections: o.poolSize });
  const taskIds = [
    ...Array.from({ length: HOST_TASKS }, (_, i) => `host-${i}`),
    ...Array.from({ length: o.tasks }, (_, i) => `cluster-${i}`),
  ];
  const simName = (h) => `sim-${String(h).padStart(4, '0')}`;
  // Every host knows the fleet (as a daemon does after its first look at the hosts).
  const allNames = Array.from({ length: o.totalHosts }, (_, h) => simName(h));
  const hosts = o.hosts.map((h) => ({
    name: simName(h),
    instance: randomUUID(),
    beats: 0,
    beating: false,
  }));
  for (const h of hosts)
    await store.registerHost({
      name: h.name,
      instance: h.instance,
      version: 'sim',
      pid: process.pid,
      tasks: taskIds,
      leaseMs: LEASE_MS,
      now: Date.now(),
    });
  const lat = { claim: [], heartbeat: [], beat: [], clusterLate: [], hostRun: [] };
  const count = {
    statements: 0,
    lateBeats: 0,
    backlogAtEnd: 0,
    undrained: 0,
    claimsIssued: 0,
    drainSeconds: 0,
    fallbackAsked: 0,
    fallbackClaimed: 0,
  };
  const errors = [];
  const won = [];
  const inflight = new Set();
  const track = (p) => {
    const q = p
      .catch((e) => errors.length < 20 && errors.push(String(e.message).split('\n')[0]))
      .finally(() => inflight.delete(q));
    inflight.add(q);
  };
  const inWindow = (t) => t >= o.t0 && t < o.tEnd;
  /** Calls fn at every instant start + k × every inside the window (absolute times: no drift). */
  const every = (start, period, fn) => {
    let k = 0;
    const next = () => {
      const at = start + k++ * period;
      if (at >= o.tEnd) return;
      setTimeout(
        () => {
          if (inWindow(at)) fn(at);
          next();
        },
        Math.max(0, at - Date.now()),
      );
    };
    next();
  };

  const runOnce = async (task, host, slot, now) => {
    const run = await store.insertRun({
      task,
      host,
      trigger: 'schedule',
      scheduledFor: slot,
      notBefore: slot,
      queuedAt: now,
      status: 'queued',
      attempt: 1,
      dryRun: false,
      pid: process.pid,
      claimFire: true,
    });
    return run;
  };

  for (const h of hosts) {
    // The fleet member's look, every second at this host's own phase, as FleetMember.beat does:
    // the heartbeat when one is due (every 5 s; listHosts every third), the pauses, and the
    // scan (expired claims, and which of the slots it let its candidates claim nobody did).
    h.deferred = [];
    h.lastBeat = -Infinity;
    every(o.t0 + Math.floor(Math.random() * SCAN_EVERY_MS), SCAN_EVERY_MS, () => {
      if (h.beating) {
        count.lateBeats++;
        return;
      }
      h.beating = true;
      track(
        (async () => {
          const t = performance.now();
          const now = Date.now();
          if (now - h.lastBeat >= HEARTBEAT_MS - 50) {
            h.lastBeat = now;
            await store.heartbeat(h.name, h.instance, now);
            lat.heartbeat.push(performance.now() - t);
            count.statements++;
            if (h.beats++ % HOSTS_EVERY_BEATS === 0) {
              await store.listHosts();
              count.statements++;
            }
          }
          await store.listPauses();
          count.statements++;
          const asked = h.deferred.filter((d) => d.at <= now);
          h.deferred = h.deferred.filter((d) => d.at > now);
          const scan = await store.scanClaims(
            now,
            asked.map((d) => ({ task: d.task, slot: d.slot })),
          );
          count.statements++;
          count.fallbackAsked += asked.length;
          if (scan.unclaimed.length > 0) {
            const wins = await store.claimSlots({
              slots: scan.unclaimed,
              host: h.name,
              instance: h.instance,
              now: Date.now(),
              leaseMs: LEASE_MS,
            });
            count.statements++;
            count.fallbackClaimed += scan.unclaimed.length;
            for (const k of wins) await runWon(h, k.task, k.slot);
          }
          lat.beat.push(performance.now() - t);
        })().finally(() => (h.beating = false)),
      );
    });
    // Its host tasks: one run every 3 s, the 20 tasks in turn.
    let k = Math.floor(Math.random() * HOST_TASKS);
    every(o.t0 + Math.floor(Math.random() * HOST_RUN_EVERY_MS), HOST_RUN_EVERY_MS, (at) => {
      const task = `host-${k++ % HOST_TASKS}`;
      track(
        (async () => {
          const t = performance.now();
          const run = await runOnce(task, h.name, at, Date.now());
          await store.startRun(run.id, Date.now(), process.pid);
          await store.finishRun(run.id, {
            status: 'success',
            finishedAt: Date.now(),
            durationMs: 5,
            exitCode: 0,
            outputTail: 'ok',
          });
          count.statements += 3;
          lat.hostRun.push(performance.now() - t);
        })(),
      );
    });
  }

  // A won slot's bookkeeping, as the engine does it.
  const runWon = async (h, task, slot) => {
    won.push(`${task}@${slot}`);
    const run = await runOnce(task, h.name, slot, Date.now());
    await store.attachRun(task, slot, h.instance, run.id);
    const started = Date.now();
    await store.startRun(run.id, started, process.pid);
    lat.clusterLate.push(started - slot);
    await store.finishRun(run.id, {
      status: 'success',
      finishedAt: Date.now(),
      durationMs: 5,
      exitCode: 0,
      outputTail: 'ok',
    });
    await store.releaseSlot(task, slot, h.instance, { state: 'done' });
    count.statements += 5;
  };
  // Cluster slots: every host of this process claims each (task, slot) due at this instant.
  const claimAll = (taskIds, slot) => {
    for (const h of hosts)
      track(
        (async () => {
          if (o.claimMode === 'batch') {
            // As ClusterSlots does: the slots this host is a first candidate for, at once.
            const first = taskIds.filter((task) => isSlotCandidate(task, slot, h.name, allNames));
            const later = taskIds.filter((task) => !first.includes(task));
            count.claimsIssued += first.length;
            const claim = async (tasks) => {
              if (tasks.length === 0) return;
              const t = performance.now();
              const wins = await store.claimSlots({
                slots: tasks.map((task) => ({ task, slot })),
                host: h.name,
                instance: h.instance,
                now: Date.now(),
                leaseMs: LEASE_MS,
              });
              const ms = performance.now() - t;
              for (let i = 0; i < tasks.length; i++) lat.claim.push(ms);
              count.statements++;
              for (const k of wins) await runWon(h, k.task, k.slot);
            };
            await claim(first);
            // The rest are asked about at the host's look after their fallback time.
            for (const task of later) h.deferred.push({ task, slot, at: slot + fallbackDelayMs(h.name) });
            return;
          }
          count.claimsIssued += taskIds.length;
          for (const task of taskIds) {
            const t = performance.now();
            const claim = await store.claimSlot({
              task,
              slot,
              host: h.name,
              instance: h.instance,
              now: Date.now(),
              leaseMs: LEASE_MS,
            });
            lat.claim.push(performance.now() - t);
            count.statements++;
            if (claim) await runWon(h, task, slot);
            else if (o.claimFire) {
              await store.claimFire(task, h.name, slot);
              count.statements++;
            }
          }
        })(),
      );
  };
  let slotsOffered = 0;
  const byOffset = new Map();
  for (let i = 0; i < o.tasks; i++) {
    const offset =
      o.align === 'spread'
        ? Math.floor((i * CLUSTER_EVERY_MS) / o.tasks)
        : o.align === 'seconds'
          ? (i % (CLUSTER_EVERY_MS / 1000)) * 1000
          : 0;
    byOffset.set(offset, [...(byOffset.get(offset) ?? []), `cluster-${i}`]);
  }
  for (const [offset, taskIds] of byOffset)
    every(o.t0 + offset, CLUSTER_EVERY_MS, (slot) => {
      slotsOffered += taskIds.length;
      claimAll(taskIds, slot);
    });

  const progress = setInterval(
    () =>
      process.stderr.write(
        `  worker ${process.pid}: ${lat.claim.length} claims, ${lat.heartbeat.length} beats, ${lat.hostRun.length} host runs done; ${inflight.size} in flight\n`,
      ),
    10_000,
  );
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, Math.max(0, o.t0 - Date.now())));
  const cpuAtStart = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, Math.max(0, o.tEnd - Date.now()) + 50));
  // What the fleet still owes at the end is a backlog: drained for up to a minute, then reported.
  const backlogAtEnd = inflight.size;
  const drainUntil = Date.now() + 60_000;
  while (inflight.size && Date.now() < drainUntil)
    await Promise.race([Promise.all([...inflight]), new Promise((r) => setTimeout(r, 1000))]);
  count.backlogAtEnd = backlogAtEnd;
  count.undrained = inflight.size;
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system - cpuAtStart.user - cpuAtStart.system) / 1e6;
  if (inflight.size === 0) {
    for (const h of hosts) await store.unregisterHost(h.name, h.instance, Date.now());
    await store.close();
  } // else: the process exits with its backlog unanswered (the connections close with it).
  count.drainSeconds = (Date.now() - o.tEnd) / 1000;
  const f = (xs) => Float64Array.from(xs);
  process.send(
    {
      lat: Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, f(v)])),
      count,
      errors,
      won,
      slotsOffered,
      cpuSeconds,
    },
    () => process.exit(0),
  );
}

if (args[0] === '--worker') await worker();
else await main();
