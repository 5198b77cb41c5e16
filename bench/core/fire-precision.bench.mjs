// 1,000 tasks due within one minute: lateness from the scheduled instant to the run's start,
// p50/p99, against croner alone firing the same schedules in the same run.
// Goal: caretaker p99 < 10 ms (issue 17; < 20 ms before).
import { join } from 'node:path';
import { Cron } from 'croner';
import { percentile, quick, tmp, ROOT } from './support.mjs';

const { createCaretaker, defineAction } = await import(join(ROOT, 'dist/index.js'));
const { z } = await import('zod');
const n = quick ? 200 : 1000;

function patterns(startMinute) {
  // Spread over the seconds of one minute: task i at second i % 60 of that minute (UTC).
  const d = new Date(startMinute);
  return Array.from({ length: n }, (_, i) => ({
    pattern: `${i % 60} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`,
    at: startMinute + (i % 60) * 1000,
  }));
}
const nextMinute = () => Math.ceil((Date.now() + 5_000) / 60_000) * 60_000;

async function caretakerRun() {
  const start = nextMinute();
  const jobs = patterns(start);
  const late = [];
  const noop = defineAction({
    name: 'noop',
    description: 'records when it starts',
    schema: z.strictObject({ i: z.number() }),
    async run(_ctx, o) {
      late.push(Date.now() - jobs[o.i].at);
      return { ok: true, summary: 'ok' };
    },
  });
  const tasks = jobs
    .map((j, i) => `  t${i}: { action: noop, schedule: "${j.pattern}", with: { i: ${i} } }`)
    .join('\n');
  const ct = createCaretaker({
    configText: `version: 1\nconcurrency: 1000\ntasks:\n${tasks}\n`,
    baseDir: tmp('ct-bench-fire-'),
    actions: [noop],
    // As the daemon and the README's embedded scheduler: the store checkpoints its WAL when idle,
    // not inside whichever commit of a burst crosses 1,000 pages.
    scheduler: true,
  });
  await ct.start();
  while (late.length < n) await new Promise((r) => setTimeout(r, 200));
  await ct.stop();
  return late;
}

async function cronerRun() {
  const start = nextMinute();
  const jobs = patterns(start);
  const late = [];
  const crons = jobs.map(
    (j) => new Cron(j.pattern, { timezone: 'UTC', maxRuns: 1 }, () => late.push(Date.now() - j.at)),
  );
  while (late.length < n) await new Promise((r) => setTimeout(r, 200));
  crons.forEach((c) => c.stop());
  return late;
}

const ours = await caretakerRun();
const theirs = await cronerRun();
const row = (name, v) =>
  `| ${name} | ${percentile(v, 0.5)} ms | ${percentile(v, 0.99)} ms | ${Math.max(...v)} ms |`;
console.log(
  `${n} tasks due within one minute, lateness from the scheduled instant to the start of the run:\n`,
);
console.log('| scheduler | p50 | p99 | max |');
console.log('|---|---|---|---|');
console.log(row('caretaker (engine + SQLite history, run started)', ours));
console.log(row('croner alone (callback fired)', theirs));
console.log(
  `\nGoal: caretaker p99 < 10 ms. Ratio of p99s (caretaker / croner): ${(percentile(ours, 0.99) / Math.max(1, percentile(theirs, 0.99))).toFixed(2)}.\n`,
);
