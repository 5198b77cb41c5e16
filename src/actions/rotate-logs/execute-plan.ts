/**
 * Carries out a plan stage by stage (lanes of a stage concurrently, steps of a lane in order),
 * recording each finished step in the journal. A step that cannot be done safely stops the rest
 * of its log's steps — never the other logs' — and becomes a warning.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { Progress } from '../types.js';
import { runInProcessGroup } from '../../os/process-group.js';
import { compressStep } from './compress-step.js';
import { faultPoint } from '../../os/fault-point.js';
import { GzipPool } from './gzip-pool.js';
import type { Journal } from './journal.js';
import { copyTruncateStep, deleteStep, mkdirStep, moveStep, renameStep, truncateStep } from './move-steps.js';
import { describeStep, type Plan, type Step } from './steps.js';
import { readFile } from 'node:fs/promises';

export interface Tally {
  readonly rotated: Set<string>;
  readonly compressed: { src: string; dst: string; bytesIn: number; bytesOut: number }[];
  readonly deleted: { path: string; bytes: number; why: string }[];
  readonly deferred: { path: string; why: string }[];
  readonly copytruncate: {
    log: string;
    bytes: number;
    passes: number;
    windowMicros: number;
    writerPaused: boolean;
  }[];
  readonly nulHoles: { log: string; firstOffset: number; firstRun: number; total: number }[];
  readonly failedLogs: Set<string>;
  readonly warnings: string[];
  /** Problems that fail the run (a full disk), beyond the warnings. */
  readonly errors: string[];
  lateBytes: number;
}

export function newTally(): Tally {
  return {
    rotated: new Set(),
    compressed: [],
    deleted: [],
    deferred: [],
    copytruncate: [],
    nulHoles: [],
    failedLogs: new Set(),
    warnings: [],
    errors: [],
    lateBytes: 0,
  };
}

export interface ExecuteContext {
  readonly journal: Journal;
  /** Finishing an interrupted plan: a step may find itself already (half) done. */
  readonly replaying: boolean;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly killGraceMs: number;
  readonly cwd: string;
  readonly threads: number;
  readonly logger: Logger;
  readonly output: (text: string) => void;
  readonly progress: (p: Progress) => void;
}

/** Marks every log of the task as failed (a shared prerotate script failed). */
const ALL = '*';

async function runLanes<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

export async function executePlan(plan: Plan, ex: ExecuteContext, tally: Tally): Promise<void> {
  let pool: GzipPool | undefined;
  const compressDone = new Map<string, number>();
  let compressTotal = 0;
  const journal = ex.journal;
  let stageStartedAt = Date.now();
  const sleep = (ms: number) => new Promise<void>((r) => ex.clock.setTimer(r, ms));

  const blocked = (step: Step) => tally.failedLogs.has(ALL) || tally.failedLogs.has(step.log);
  const fail = (step: Step, why: string) => {
    tally.warnings.push(why);
    tally.failedLogs.add(step.log);
  };

  const runStep = async (step: Step, stage: string): Promise<void> => {
    const mark = (k: string, v: string) => journal.mark(step.id, k, v);
    const getMark = (k: string) => journal.getMark(step.id, k);
    switch (step.kind) {
      case 'mkdir':
        return mkdirStep(step.path, step.mode);
      case 'delete': {
        const r = await deleteStep(step.path, step.ino);
        if (r.status === 'blocked') tally.warnings.push(r.why);
        if (r.status === 'done') tally.deleted.push({ path: step.path, bytes: r.bytes ?? 0, why: step.why });
        return;
      }
      case 'rename': {
        const r = await renameStep(step.from, step.to, ex.replaying);
        if (r.status === 'blocked') fail(step, r.why);
        return;
      }
      case 'move': {
        const r = await moveStep(step.log, step.to, step.create, ex.replaying);
        if (r.status === 'blocked') fail(step, r.why);
        else if (r.status === 'done') {
          tally.rotated.add(step.log);
          if (r.detail) tally.warnings.push(r.detail);
        } else tally.failedLogs.add(step.log);
        return;
      }
      case 'copytruncate': {
        const r = await copyTruncateStep(
          step.log,
          step.to,
          { signal: ex.signal, mark, getMark },
          ex.replaying,
          step.pausePidfile,
        );
        if (r.status === 'blocked') fail(step, r.why);
        else if (r.status === 'missing') tally.failedLogs.add(step.log);
        else {
          tally.rotated.add(step.log);
          if (r.copy) {
            tally.copytruncate.push({
              log: step.log,
              bytes: r.copy.bytesCopied,
              passes: r.copy.passes,
              windowMicros: r.copy.windowMicros,
              writerPaused: r.copy.paused,
            });
            if (r.copy.pauseError)
              tally.warnings.push(`pause_writer: ${r.copy.pauseError}; truncated without pausing the writer`);
            if (r.copy.nul) {
              tally.nulHoles.push({ log: step.log, ...r.copy.nul });
              tally.warnings.push(
                `${step.log} held ${r.copy.nul.total} NUL bytes (first run of ${r.copy.nul.firstRun} at offset ${r.copy.nul.firstOffset}): its writer does not open it with O_APPEND and kept its old offset after a truncate (logrotate #363); its lines after the hole are intact in ${step.to}`,
              );
            }
          }
        }
        return;
      }
      case 'truncate': {
        const r = await truncateStep(step.log);
        if (r.status === 'done') {
          tally.rotated.add(step.log);
          tally.deleted.push({ path: step.log, bytes: r.bytes ?? 0, why: 'rotate 0 with copytruncate' });
        }
        return;
      }
      case 'compress': {
        const r = await compressStep(
          step,
          {
            pool: () => (pool ??= new GzipPool(ex.threads)),
            level: plan.level,
            signal: ex.signal,
            releaseWaitMs: plan.releaseWaitMs,
            movedAt: stageStartedAt,
            sleep,
            now: () => ex.clock.now(),
            mark,
            getMark,
            onProgress: (label, done, total) => {
              if (!compressDone.has(label)) compressTotal += total;
              compressDone.set(label, done);
              let sum = 0;
              for (const v of compressDone.values()) sum += v;
              ex.progress({ done: sum, total: compressTotal, unit: 'bytes', label });
            },
          },
          ex.replaying,
        );
        if (r.status === 'deferred') {
          tally.deferred.push({ path: step.src, why: r.why });
          tally.warnings.push(r.why);
          // Before the move, the old generation must be out of the way: this log waits.
          if (stage === 'before') tally.failedLogs.add(step.log);
        } else if (r.status === 'done') {
          tally.compressed.push({ src: step.src, dst: step.dst, bytesIn: r.bytesIn, bytesOut: r.bytesOut });
          tally.lateBytes += r.lateBytes;
          if (r.lateBytes > 0)
            tally.warnings.push(
              `${r.lateBytes} bytes written to ${step.src} while it was being retired were appended to ${step.dst}`,
            );
        }
        return;
      }
      case 'script': {
        const r = await runInProcessGroup({
          // A final newline, as logrotate gives its scripts: a last line ending in `\` needs it.
          command: [
            '/bin/sh',
            '-c',
            step.script.endsWith('\n') ? step.script : `${step.script}\n`,
            'logrotate_script',
            step.arg,
          ],
          cwd: ex.cwd,
          env: process.env,
          signal: ex.signal,
          killGraceMs: ex.killGraceMs,
          clock: ex.clock,
          onOutput: ex.output,
        });
        if (r.exitCode === 0) return;
        const why = r.spawnError ?? (r.exitCode === null ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
        if (step.phase === 'prerotate')
          fail(step, `prerotate script for ${step.arg} failed (${why}): not rotated`);
        else tally.warnings.push(`postrotate script for ${step.arg} failed (${why})`);
        return;
      }
      case 'signal': {
        const text = await readFile(step.pidfile, 'utf8').catch(() => undefined);
        const pid = Number(text?.trim());
        if (!Number.isInteger(pid) || pid <= 0) {
          tally.warnings.push(
            `signal: ${step.pidfile} ${text === undefined ? 'cannot be read' : 'holds no process id'}; the writer was not told to reopen its log`,
          );
          return;
        }
        try {
          process.kill(pid, step.signal);
          ex.output(`sent ${step.signal} to pid ${pid}\n`);
        } catch (err) {
          tally.warnings.push(
            `signal: cannot send ${step.signal} to pid ${pid} from ${step.pidfile}: ${(err as NodeJS.ErrnoException).code}`,
          );
        }
        return;
      }
    }
  };

  try {
    for (const stage of plan.stages) {
      stageStartedAt = Date.now();
      await runLanes(stage.lanes, stage.concurrency, async (lane) => {
        for (const step of lane) {
          if (journal.state.done.has(step.id) || journal.state.skipped.has(step.id)) continue;
          ex.signal.throwIfAborted();
          if (blocked(step)) {
            await journal.skip(step.id);
            continue;
          }
          faultPoint('rotate:step', `before: ${describeStep(step)}`);
          try {
            await runStep(step, stage.name);
          } catch (err) {
            if (ex.signal.aborted) throw err;
            const code = (err as NodeJS.ErrnoException).code;
            // A full disk is not a log to retry next time: the host needs a person now.
            if (code === 'ENOSPC' || code === 'EDQUOT') {
              tally.errors.push((err as Error).message);
              tally.failedLogs.add(step.log);
            } else fail(step, `${describeStep(step)}: ${(err as Error).message}`);
            await journal.skip(step.id);
            continue;
          }
          await journal.done(step.id);
        }
      });
    }
  } finally {
    await pool?.close();
  }
}

export { ALL as ALL_LOGS };
