#!/usr/bin/env node
// Screenshots of every dashboard page, light and dark, 1280×800, into docs/dashboard/: the demo
// (examples/demo) copied to a temp dir, a week of realistic history written into its store,
// its daemon started with server.listen on a free loopback port, real runs of the backup and
// health tasks, then Chromium (Debian's, through playwright-core) logged in with
// `caretaker dashboard`'s one-time link. Run after `npm run build`:
//
//   node scripts/dashboard-screenshots.mjs
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const out = join(root, 'docs/dashboard');
const dir = mkdtempSync(join(tmpdir(), 'ct-shots-'));
cpSync(join(root, 'examples/demo'), dir, {
  recursive: true,
  filter: (p) => !p.includes('.caretaker') && !p.includes('/var'),
});

// The demo's module task imports better-sqlite3: resolve it from this checkout.
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));

const port = await new Promise((r) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => r(p));
  });
});
const yaml = readFileSync(join(dir, 'caretaker.yaml'), 'utf8').replace(
  /^version: 1$/m,
  `version: 1\nserver: { listen: 127.0.0.1:${port} }`,
);
writeFileSync(join(dir, 'caretaker.yaml'), yaml);
const ct = (...args) =>
  execFileSync(process.execPath, [bin, ...args, '-c', join(dir, 'caretaker.yaml')], {
    encoding: 'utf8',
    cwd: dir,
  });

// ---- a week of history ---------------------------------------------------------------------
mkdirSync(join(dir, '.caretaker'), { recursive: true });
const { openStore } = await import(join(root, 'dist/store/open-store.js'));
const store = await openStore({ kind: 'sqlite', path: join(dir, '.caretaker/caretaker.db') });
const tasks = [...yaml.matchAll(/^ {2}([a-z][a-z0-9-]+):$/gm)].map((m) => m[1]);
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const now = Date.now();
const HOUR = 3_600_000;
const every = {
  'write-log': 1,
  'fill-cache': 1,
  'record-metrics': 2,
  'scan-app-log': 2,
  'rotate-app-log': 3,
  'prune-cache': 3,
};
const mean = {
  'backup-demo': 4_200,
  'verify-backups': 2_600,
  'host-health': 900,
  'demo-tests': 7_800,
  formatting: 3_100,
};
// In time order, as a daemon records them (ids grow with queue time).
const planned = [];
for (const task of tasks) {
  const step = (every[task] ?? 12) * HOUR;
  for (let t = now - 7 * 24 * HOUR + rnd() * step; t < now - 10 * 60_000; t += step) planned.push([task, t]);
}
planned.sort((a, b) => a[1] - b[1]);
{
  for (const [task, t] of planned) {
    const ms = Math.round((mean[task] ?? 300) * (0.6 + rnd() * 0.9));
    const fail = task === 'scan-app-log' ? rnd() < 0.12 : rnd() < 0.03;
    const run = await store.insertRun({
      task,
      host: hostname(),
      trigger: rnd() < 0.05 ? 'manual' : 'schedule',
      scheduledFor: Math.floor(t),
      notBefore: null,
      queuedAt: Math.floor(t),
      status: 'running',
      attempt: 1,
      dryRun: false,
      pid: 1,
      startedAt: Math.floor(t),
    });
    await store.finishRun(run.id, {
      status: fail ? 'failed' : 'success',
      startedAt: Math.floor(t),
      finishedAt: Math.floor(t) + ms,
      durationMs: ms,
      exitCode: fail ? 1 : 0,
      outputTail: fail
        ? `scanning var/app.log\n12 ERROR lines since the last scan (threshold 10)\n`
        : `${task}: done\n`,
      result: {
        ok: !fail,
        summary: fail ? '12 errors in var/app.log (threshold 10)' : `${task} finished`,
        ...(task === 'prune-cache' ? { bytesFreed: Math.round(rnd() * 900_000) } : {}),
      },
      reason: null,
    });
  }
}
const opened = now - 5 * HOUR;
const incident = await store.saveIncident({
  id: 0,
  key: 'task:scan-app-log:failure',
  subjectKind: 'task',
  subjectId: 'scan-app-log',
  event: 'failure',
  level: 'fail',
  openedAt: opened,
  lastSeenAt: now - 40 * 60_000,
  lastNotifiedAt: opened,
  occurrences: 3,
  notifications: 1,
  message: 'scan-app-log failed 3 times: 12 errors in var/app.log (threshold 10)',
  oneShot: false,
  closedAt: null,
});
await store.insertDelivery({
  incidentId: incident.id,
  channel: 'command',
  event: 'failure',
  status: 'sent',
  attempts: 1,
  createdAt: opened,
  finishedAt: opened + 180,
  error: null,
  payload: null,
});
await store.close();

// ---- the daemon, a few real runs, a pause --------------------------------------------------
const daemon = spawn(process.execPath, [bin, 'start', '-c', join(dir, 'caretaker.yaml')], {
  cwd: dir,
  stdio: 'ignore',
});
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // The pretend service first, so that the backup finds its database.
  for (const task of [
    'write-log',
    'fill-cache',
    'record-metrics',
    'backup-demo',
    'verify-backups',
    'host-health',
  ]) {
    try {
      ct('run-task', task, '--wait');
    } catch {
      // a failed run is history too
    }
  }
  ct('pause', 'weekly-report', '--reason', 'report layout under review');
  ct('token', 'create', 'ops-alice', '--role', 'operator');

  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const lastRun = JSON.parse(ct('history', 'backup-demo', '--limit', '1', '--json'))[0]?.id ?? 1;
  const pages = [
    ['overview', '/'],
    ['task', '/tasks/scan-app-log'],
    ['run', `/runs/${lastRun}`],
    ['timeline', '/timeline'],
    ['dependencies', '/dependencies'],
    ['incidents', '/incidents'],
    ['backups', '/backups'],
    ['health', '/health'],
    ['audit', '/audit'],
  ];
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(ct('dashboard').trim());
    for (const [name, path] of pages) {
      await page.goto(`http://127.0.0.1:${port}${path}`);
      if (name === 'task') await page.waitForSelector('.uplot', { timeout: 5_000 }).catch(() => {});
      await page.screenshot({ path: join(out, `${name}-${scheme}.png`) });
      console.log(`docs/dashboard/${name}-${scheme}.png`);
    }
    await context.close();
  }
  await browser.close();
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
