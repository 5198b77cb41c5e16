/**
 * `health`: system and service checks with thresholds. One task holds any number of checks of
 * any kinds; they run at once, each with its own timeout; each is ok, warn or fail with its
 * measured value; the run is the worst of them (a fail fails the run). Measured values become
 * samples, from which disks get a fill-up forecast and every value a trend.
 */
import type { z } from 'zod';
import type { SampleInput } from '../../core/sample.js';
import { defineAction } from '../types.js';
import { healthDeclaration } from './declaration.js';
import type { schema } from './schema.js';
import { analyse, sampleKey } from './analysis.js';
import { checkLabel, type CheckKind, type CheckResult } from './check-types.js';
import type { CommonSpec } from './common-options.js';
import { cpuCheck, loadCheck } from './cpu.js';
import { commandCheck } from './command-check.js';
import { postgresCheck, redisCheck } from './datastores.js';
import { diskCheck } from './disk.js';
import { httpCheck } from './http-check.js';
import { jsonFileCheck } from './json-file.js';
import { memoryCheck } from './memory.js';
import { metricsFileCheck } from './metrics-file.js';
import { processCheck } from './process-check.js';
import { runRemedy } from './remediation.js';
import { runChecks, type PlannedCheck } from './run-checks.js';
import { tcpCheck } from './tcp.js';
import { tlsCheck } from './tls.js';

/** Every kind, in the order the report lists them. */
export const CHECK_KINDS = [
  diskCheck,
  memoryCheck,
  cpuCheck,
  loadCheck,
  httpCheck,
  tcpCheck,
  tlsCheck,
  processCheck,
  commandCheck,
  postgresCheck,
  redisCheck,
  jsonFileCheck,
  metricsFileCheck,
] as const;

type Options = z.output<typeof schema>;

function plan(o: Options): PlannedCheck[] {
  const out: PlannedCheck[] = [];
  const seen = new Map<string, number>();
  for (const kind of CHECK_KINDS as readonly CheckKind[]) {
    const specs = ((o as Record<string, unknown>)[kind.kind] ?? []) as CommonSpec[];
    specs.forEach((spec, i) => {
      let name = spec.name ?? kind.nameOf(spec, i);
      const key = `${kind.kind}:${name}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 1) name = `${name}#${n}`; // two unnamed checks of the same target stay apart
      out.push({ kind, spec, name, timeoutMs: spec.timeout ?? kind.defaultTimeoutMs });
    });
  }
  return out;
}

/** One line per check; a warning or failure also shows the limits it was judged against. */
const line = (r: CheckResult) =>
  `${checkLabel(r)}: ${r.message}${(r.status === 'warn' || r.status === 'fail') && r.thresholds ? ` [${r.thresholds}]` : ''}`;

export const healthAction = defineAction({
  ...healthDeclaration,
  async run(ctx, o) {
    const planned = plan(o);
    if (planned.length === 0) return { ok: true, summary: 'no checks configured', changed: false };
    const nested = await runChecks(planned, {
      signal: ctx.signal,
      clock: ctx.clock,
      dryRun: ctx.dryRun,
      killGraceMs: ctx.killGraceMs,
      resolvePath: ctx.resolvePath,
    });
    const now = ctx.clock.now();
    const analysed = await analyse(nested.flat(), ctx.samples, {
      now,
      forecastDays: o.forecast?.days ?? 14,
      horizonMs: o.forecast?.horizon ?? 14 * 86_400_000,
      trendDays: o.trends?.days ?? 7,
      trendThreshold: o.trends?.threshold ?? 0.2,
    });
    let results = analysed.results;
    // Remedies of failed checks, one after another (two remedies at once rarely help).
    let remedied = false;
    const plans: string[] = [];
    for (const [i, p] of planned.entries()) {
      if (!p.spec.on_fail) continue;
      const names = new Set(nested[i]!.map((r) => r.name));
      const failed = results.filter((r) => names.has(r.name) && r.status === 'fail');
      if (failed.length === 0) continue;
      const remedy = await runRemedy(`${p.kind.kind}:${p.name}`, p.spec.on_fail, ctx);
      if (remedy.ran) remedied = true;
      if (ctx.dryRun) plans.push(remedy.message);
      results = results.map((r) => (names.has(r.name) && r.status === 'fail' ? { ...r, remedy } : r));
    }
    const order = { fail: 0, warn: 1, ok: 2, skipped: 3 } as const;
    for (const r of [...results].sort((a, b) => order[a.status] - order[b.status]))
      ctx.output(
        `${r.status.toUpperCase().padEnd(4)}  ${line(r)}${r.remedy ? ` [${r.remedy.message}]` : ''}\n`,
      );
    for (const f of analysed.forecasts) ctx.output(`forecast ${f.check}: ${f.message}\n`);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const counts = { ok: count('ok'), warn: count('warn'), fail: count('fail'), skipped: count('skipped') };
    const failed = results.filter((r) => r.status === 'fail');
    const warned = results.filter((r) => r.status === 'warn');
    const samples: SampleInput[] = results.flatMap((r) =>
      (r.samples ?? []).map((s) => ({
        key: sampleKey(r, s.metric),
        value: s.value,
        unit: s.unit,
        better: s.better,
      })),
    );
    const worstFirst = [...failed, ...warned].map(line);
    const parts = [`${counts.ok} ok`, `${counts.warn} warn`, `${counts.fail} fail`];
    if (counts.skipped) parts.push(`${counts.skipped} skipped`);
    return {
      ok: failed.length === 0,
      summary: `${results.length} check${results.length === 1 ? '' : 's'}: ${parts.join(', ')}${worstFirst.length ? ` — ${worstFirst[0]}` : ''}`,
      changed: remedied,
      warnings: warned.length ? warned.map(line) : undefined,
      issuesFound: failed.length + warned.length,
      plan: ctx.dryRun
        ? [...results.filter((r) => r.status === 'skipped').map((r) => r.message), ...plans]
        : undefined,
      details: {
        checks: results.map(({ samples: _s, ...r }) => r),
        counts,
        forecasts: analysed.forecasts,
        failing: failed.map(line),
      },
      samples,
    };
  },
});
