/**
 * Scans a byte range of one file, split across worker threads when it is big enough to pay for
 * them (a worker costs some tens of milliseconds to start). Split points are moved to just after
 * a newline, so no line is cut in two and each worker's counts are exact on their own; tallies
 * are then summed, and sample line numbers shifted by the lines of the parts before them.
 */
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LineScanner, type Sample, type ScanPlan, type ScanSettings, type Tally } from './line-scanner.js';
import { scanRange } from './range-scan.js';
import type { WorkerJob } from './scan-worker.js';

export interface RangeScanResult {
  readonly tally: Tally;
  /** Offset just after the last byte scanned (a line end, or EOF of a complete file). */
  readonly endOffset: number;
  readonly workers: number;
}

export interface ParallelOptions {
  /** Threads to use at most. @default the machine's available parallelism */
  readonly threads?: number;
  /** Ranges smaller than this are scanned on the calling thread. */
  readonly minParallelBytes?: number;
}

export const MIN_PARALLEL_BYTES = 32 << 20;

function startWorker(job: WorkerJob): Worker {
  const url = new URL('./scan-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(url, { workerData: job });
  // Running from the TypeScript sources (tests): load the worker through tsx, as module.ts does.
  const ts = new URL('./scan-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(ts)}, ${JSON.stringify(ts)}))`;
  return new Worker(code, { eval: true, workerData: job });
}

function runWorker(job: WorkerJob, signal: AbortSignal): Promise<{ tally: Tally; endOffset: number }> {
  return new Promise((resolve, reject) => {
    const w = startWorker(job);
    let result: { tally: Tally; endOffset: number } | undefined;
    const onAbort = () => void w.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    w.once('message', (m: { tally: Tally; endOffset: number }) => (result = m));
    w.once('error', reject);
    w.once('exit', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      else if (result) resolve(result);
      else reject(new Error(`scan worker exited with code ${code} and no result`));
    });
  });
}

/** Offsets that cut [start, end) into `parts` pieces, each moved to just after a newline. */
async function splitPoints(path: string, start: number, end: number, parts: number): Promise<number[]> {
  const fh = await open(path, 'r');
  try {
    const probe = Buffer.allocUnsafe(64 << 10);
    const cuts = [start];
    for (let k = 1; k < parts; k++) {
      let p = Math.max(start + Math.floor(((end - start) * k) / parts), cuts[cuts.length - 1]!);
      for (;;) {
        const { bytesRead } = await fh.read(probe, 0, Math.min(probe.length, end - p), p);
        if (bytesRead <= 0) {
          p = end;
          break;
        }
        const nl = probe.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) {
          p += nl + 1;
          break;
        }
        p += bytesRead;
      }
      if (p > cuts[cuts.length - 1]! && p < end) cuts.push(p);
    }
    cuts.push(end);
    return cuts;
  } finally {
    await fh.close();
  }
}

/** Sums tallies of consecutive parts; keeps the last `keep` samples per pattern. */
export function mergeTallies(parts: readonly Tally[], keep: number): Tally {
  const first = parts[0]!;
  const counts = first.counts.map(() => 0);
  const samples: Sample[][] = first.counts.map(() => []);
  let lines = 0;
  let bytes = 0;
  let skippedOld = 0;
  for (const t of parts) {
    t.counts.forEach((c, k) => (counts[k]! += c));
    t.samples.forEach((list, k) => samples[k]!.push(...list.map((s) => ({ ...s, line: s.line + lines }))));
    lines += t.lines;
    bytes += t.bytes;
    skippedOld += t.skippedOld;
  }
  return { counts, samples: samples.map((l) => l.slice(-keep)), lines, bytes, skippedOld };
}

/** Scans [start, end) of a plain file; see `scanRange` for `complete`. */
export async function scanFileRange(
  path: string,
  start: number,
  end: number,
  complete: boolean,
  plans: readonly ScanPlan[],
  settings: ScanSettings,
  signal: AbortSignal,
  opts: ParallelOptions = {},
): Promise<RangeScanResult> {
  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const min = opts.minParallelBytes ?? MIN_PARALLEL_BYTES;
  if (threads < 2 || end - start < min) {
    const fh = await open(path, 'r');
    try {
      const scanner = new LineScanner(plans, settings);
      const endOffset = await scanRange(
        async (b, o, l, p) => {
          signal.throwIfAborted();
          return (await fh.read(b, o, l, p)).bytesRead;
        },
        start,
        end,
        complete,
        scanner,
      );
      return { tally: scanner.tally(), endOffset, workers: 0 };
    } finally {
      await fh.close();
    }
  }
  const parts = Math.min(threads, Math.ceil((end - start) / (min / 2)));
  const cuts = await splitPoints(path, start, end, parts);
  const jobs: WorkerJob[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const last = k + 2 === cuts.length;
    jobs.push({
      path,
      start: cuts[k]!,
      end: cuts[k + 1]!,
      complete: last ? complete : true,
      plans,
      settings,
    });
  }
  const results = await Promise.all(jobs.map((j) => runWorker(j, signal)));
  return {
    tally: mergeTallies(
      results.map((r) => r.tally),
      settings.sampleLines,
    ),
    endOffset: results[results.length - 1]!.endOffset,
    workers: jobs.length,
  };
}
