/**
 * `process`: a process (by pid file, exact name, or command-line pattern) is alive; its resident
 * memory and CPU % (over a short sample) against thresholds. Reads /proc (Linux).
 */
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { duration, size } from '../../schema/values.js';
import { percent } from '../../schema/thresholds.js';
import { formatSize } from '../../core/size.js';
import { defineCheck, worst } from './check-types.js';
import { common } from './common-options.js';
import { judgeAbove, pct } from './thresholds.js';

const schema = z.strictObject({
  pid_file: z.string().optional().describe('A file holding the pid.'),
  process_name: z.string().optional().describe('The exact process name (as in /proc/PID/comm, e.g. nginx).'),
  match: z.string().optional().describe('A regular expression matched against the full command line.'),
  min_count: z.number().int().min(1).optional().describe('At least this many matching processes. @default 1'),
  rss_warn: size().optional(),
  rss_fail: size().optional(),
  cpu_warn: percent().optional().describe('CPU % of one core, e.g. 80%.'),
  cpu_fail: percent().optional(),
  sample: duration().optional().describe('CPU is measured over this long. @default 500ms'),
  ...common,
});

const CLOCK_TICKS = 100; // USER_HZ on Linux, the unit of utime/stime in /proc/PID/stat

async function procStat(pid: number): Promise<{ ticks: number; rss: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (Z) or dead (X) process has exited; only its parent has not yet reaped it.
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { ticks: Number(rest[11]) + Number(rest[12]), rss: rssKb * 1024 };
  } catch {
    return undefined; // gone
  }
}

async function findPids(s: z.output<typeof schema>, resolvePath: (p: string) => string): Promise<number[]> {
  if (s.pid_file) {
    const text = (await readFile(resolvePath(s.pid_file), 'utf8')).trim();
    if (!/^\d+$/.test(text)) throw new Error(`${s.pid_file} does not hold a pid`);
    const pid = Number(text);
    return (await procStat(pid)) ? [pid] : [];
  }
  const re = s.match === undefined ? undefined : new RegExp(s.match);
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (s.process_name !== undefined) {
        if ((await readFile(`/proc/${entry}/comm`, 'utf8')).trim() === s.process_name)
          out.push(Number(entry));
      } else if (re) {
        const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
        if (cmd && re.test(cmd)) out.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

export const processCheck = defineCheck({
  kind: 'process',
  schema,
  defaultTimeoutMs: 10_000,
  nameOf: (s) => s.process_name ?? s.pid_file ?? s.match ?? 'process',
  async run(s, ctx) {
    const given = [s.pid_file, s.process_name, s.match].filter((v) => v !== undefined).length;
    if (given !== 1)
      return { status: 'fail', value: null, message: 'set exactly one of pid_file, process_name, match' };
    let pids: number[];
    try {
      pids = await findPids(s, ctx.resolvePath);
    } catch (err) {
      return { status: 'fail', value: null, message: (err as Error).message };
    }
    const min = s.min_count ?? 1;
    if (pids.length < min)
      return {
        status: 'fail',
        value: pids.length,
        unit: 'processes',
        message: pids.length === 0 ? 'not running' : `${pids.length} running, expected at least ${min}`,
      };
    const before = await Promise.all(pids.map(procStat));
    const sampleMs = s.sample ?? 500;
    await delay(sampleMs, undefined, { signal: ctx.signal });
    const after = await Promise.all(pids.map(procStat));
    let rss = 0;
    let ticks = 0;
    let alive = 0;
    after.forEach((a, i) => {
      if (!a) return;
      alive++;
      rss += a.rss;
      ticks += a.ticks - (before[i]?.ticks ?? a.ticks);
    });
    if (alive < min)
      return { status: 'fail', value: alive, unit: 'processes', message: 'exited during the check' };
    const cpu = ticks / CLOCK_TICKS / (sampleMs / 1_000);
    const status = worst(
      judgeAbove(rss, { warn: s.rss_warn, fail: s.rss_fail }),
      judgeAbove(cpu, { warn: s.cpu_warn, fail: s.cpu_fail }),
    );
    return {
      status,
      value: rss,
      unit: 'bytes',
      message: `${alive} process${alive === 1 ? '' : 'es'} (pid ${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ', …' : ''}): RSS ${formatSize(rss)}, CPU ${pct(cpu)}`,
      details: { pids, rssBytes: rss, cpu },
      samples: [
        { metric: 'rss_bytes', value: rss, unit: 'bytes', better: 'lower' },
        { metric: 'cpu_pct', value: cpu, unit: 'ratio', better: 'lower' },
      ],
    };
  },
});
