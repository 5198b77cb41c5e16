/** Worker thread: scans one line-aligned byte range of a file and posts its tally back. */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { LineScanner, type ScanPlan, type ScanSettings } from './line-scanner.js';
import { scanRange } from './range-scan.js';

export interface WorkerJob {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly complete: boolean;
  readonly plans: readonly ScanPlan[];
  readonly settings: ScanSettings;
}

const job = workerData as WorkerJob;
const fd = openSync(job.path, 'r');
try {
  const scanner = new LineScanner(job.plans, job.settings);
  const endOffset = await scanRange(
    (b, o, l, p) => readSync(fd, b, o, l, p),
    job.start,
    job.end,
    job.complete,
    scanner,
  );
  parentPort!.postMessage({ tally: scanner.tally(), endOffset });
} finally {
  closeSync(fd);
}
