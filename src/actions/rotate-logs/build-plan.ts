/**
 * From the logs that are due to the whole plan: per-log steps from plan-log.ts arranged in stages
 * the way logrotate orders them — every log's old generations first, then prerotate, the moves,
 * postrotate (once with sharedscripts, per log without), the signal, and compression last, when
 * the writers have reopened their files.
 */
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { lookupId, type LookupContext } from './owners.js';
import type { Candidate } from './collect.js';
import { generationDirs, listGenerations } from './collect.js';
import { LogNames } from './naming.js';
import { planLog, type LogPlan } from './plan-log.js';
import type { ResolvedRotate } from './schema.js';
import type { CreateIds, Plan, Stage, Step, StepBody } from './steps.js';
import { ALL_LOGS } from './execute-plan.js';

export interface PlannedLog {
  readonly candidate: Candidate;
  readonly plan: LogPlan;
  /** Bytes of the log and its generations now. */
  readonly familyBytes: number;
  readonly dirs: readonly string[];
  readonly stem: string;
}

async function createIds(
  opts: ResolvedRotate,
  c: Candidate,
  ctx: LookupContext,
): Promise<CreateIds | undefined> {
  if (!opts.create) return undefined;
  const st = await lstat(c.log);
  return {
    mode: opts.create.mode ?? st.mode & 0o7777,
    uid: opts.create.owner === undefined ? st.uid : await lookupId('user', opts.create.owner, ctx),
    gid: opts.create.group === undefined ? st.gid : await lookupId('group', opts.create.group, ctx),
  };
}

/** Missing olddir components, outermost first, created with the mode of the log's directory. */
async function missingDirs(dir: string, modeFrom: string): Promise<{ path: string; mode: number }[]> {
  const mode = (await lstat(modeFrom)).mode & 0o777;
  const out: { path: string; mode: number }[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      const st = await lstat(d);
      if (!st.isDirectory()) throw new Error(`olddir ${dir}: ${d} exists and is not a directory`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      out.unshift({ path: d, mode });
    }
    if (dirname(d) === d) break;
  }
  return out.length > 0 ? [out[out.length - 1]!] : []; // mkdir -p of the deepest does them all
}

export async function planOne(
  c: Candidate,
  opts: ResolvedRotate,
  now: number,
  ctx: LookupContext,
  pendingCompress: ReadonlySet<string>,
): Promise<PlannedLog> {
  const names = new LogNames(c.log, opts, now);
  const dirs = await generationDirs(c.log, opts, now);
  const listing = await listGenerations(dirs, names.stem);
  let familyBytes = c.entry.size;
  for (const e of listing.values()) if (e.path !== c.log && e.isFile) familyBytes += e.size;
  const plan = planLog({
    log: c.log,
    logEntry: c.entry,
    opts,
    names,
    listing,
    now,
    create: opts.copytruncate ? undefined : await createIds(opts, c, ctx),
    pendingCompress,
    mkdirs: await missingDirs(names.rotDir, dirname(c.log)),
  });
  return { candidate: c, plan, familyBytes, dirs, stem: names.stem };
}

/** Bytes of a log and its generations, measured again after the run. */
export async function familyBytesNow(p: PlannedLog): Promise<number> {
  const listing = await listGenerations(p.dirs, p.stem);
  let total = 0;
  for (const e of listing.values()) if (e.isFile) total += e.size;
  if (!listing.has(p.candidate.log))
    total += await lstat(p.candidate.log).then(
      (s) => s.size,
      () => 0,
    );
  return total;
}

export function assemblePlan(
  logs: readonly PlannedLog[],
  opts: ResolvedRotate,
  now: number,
  pattern: string,
): Plan {
  let id = 1;
  const step = (log: string, body: StepBody): Step => ({ ...body, id: id++, log });
  const active = logs.filter((l) => !l.plan.blocked);
  const lanes = (pick: (p: LogPlan) => StepBody[]) =>
    active.map((l) => pick(l.plan).map((b) => step(l.candidate.log, b))).filter((lane) => lane.length > 0);

  const stages: Stage[] = [];
  const parallel = Math.max(2, opts.compressThreads);
  stages.push({ name: 'before', concurrency: parallel, lanes: lanes((p) => p.before) });
  const script = (phase: 'prerotate' | 'postrotate', text: string | undefined, log: string, arg: string) =>
    text === undefined ? [] : [step(log, { kind: 'script', phase, script: text, arg })];
  const signal = opts.signal
    ? [step(ALL_LOGS, { kind: 'signal', pidfile: opts.signal.pidfile, signal: opts.signal.signal })]
    : [];

  if (opts.sharedscripts) {
    stages.push({
      name: 'prerotate',
      concurrency: 1,
      lanes: [script('prerotate', opts.prerotate, ALL_LOGS, pattern)],
    });
    stages.push({ name: 'rotate', concurrency: 4, lanes: lanes((p) => p.rotate) });
    stages.push({
      name: 'postrotate',
      concurrency: 1,
      lanes: [[...script('postrotate', opts.postrotate, ALL_LOGS, pattern), ...signal]],
    });
  } else {
    const scripted = opts.prerotate !== undefined || opts.postrotate !== undefined;
    stages.push({
      name: 'rotate',
      // Scripts of different logs never run at the same time, as under logrotate.
      concurrency: scripted ? 1 : 4,
      lanes: active.map((l) => [
        ...script('prerotate', opts.prerotate, l.candidate.log, l.candidate.log),
        ...l.plan.rotate.map((b) => step(l.candidate.log, b)),
        ...script('postrotate', opts.postrotate, l.candidate.log, l.candidate.log),
      ]),
    });
    stages.push({ name: 'signal', concurrency: 1, lanes: [signal] });
  }
  stages.push({ name: 'after', concurrency: parallel, lanes: lanes((p) => p.after) });
  return {
    version: 1,
    createdAt: now,
    releaseWaitMs: opts.signal ? opts.signal.waitMs : opts.postrotate !== undefined ? 5_000 : 0,
    level: opts.compressLevel,
    stages: stages
      .map((s) => ({ ...s, lanes: s.lanes.filter((l) => l.length > 0) }))
      .filter((s) => s.lanes.length > 0),
  };
}

/** Logs whose move a plan completed (for the state file after a replay). */
export function logsRotatedBy(plan: Plan, done: ReadonlySet<number>): string[] {
  const out = new Set<string>();
  for (const s of plan.stages)
    for (const lane of s.lanes)
      for (const st of lane)
        if ((st.kind === 'move' || st.kind === 'copytruncate' || st.kind === 'truncate') && done.has(st.id))
          out.add(st.log);
  return [...out];
}
