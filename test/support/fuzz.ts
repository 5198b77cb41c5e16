/**
 * Property-based fuzzing with fast-check, bounded: a fixed number of runs, a per-case timeout
 * (the target runs in a worker thread that is terminated when a case hangs), and the seed logged
 * so that a failure replays: `FUZZ_SEED=<seed> npx vitest run <file>`. FUZZ_RUNS overrides the
 * number of runs.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

export type FuzzTarget = 'config' | 'crontab' | 'logrotate' | 'archive';

export interface Outcome {
  /** ok: returned; expected: an error with exitCode 2 (or the archive reader's own error). */
  readonly kind: 'ok' | 'expected' | 'bad' | 'hang';
  readonly detail?: string;
}

const WORKER = resolve(import.meta.dirname, 'fuzz-worker.mjs');

export function fuzzParams(name: string, defaultRuns: number): { seed: number; numRuns: number } {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const numRuns = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  console.log(`${name}: fast-check seed ${seed}, ${numRuns} runs (replay: FUZZ_SEED=${seed})`);
  return { seed, numRuns };
}

/** One worker for a file's cases; replaced after a case that hung. */
export class FuzzWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 0;

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const w = new Worker(WORKER);
    this.worker = w;
    this.ready = new Promise((res, rej) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m.ready) {
          w.off('message', onMessage);
          res();
        }
      };
      w.on('message', onMessage);
      w.once('error', rej);
    });
    return this.ready;
  }

  async run(target: FuzzTarget, input: string | Uint8Array, timeoutMs: number): Promise<Outcome> {
    await this.start();
    const w = this.worker!;
    const id = this.nextId++;
    return new Promise<Outcome>((res) => {
      const timer = setTimeout(() => {
        w.off('message', onMessage);
        this.worker = undefined;
        this.ready = undefined;
        void w.terminate();
        res({ kind: 'hang', detail: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      const onMessage = (m: { id?: number; kind: Outcome['kind']; detail?: string }) => {
        if (m.id !== id) return;
        clearTimeout(timer);
        w.off('message', onMessage);
        res({ kind: m.kind, detail: m.detail });
      };
      w.on('message', onMessage);
      w.postMessage({ id, target, input });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
    this.ready = undefined;
  }
}

/** Text mutants of a real file: truncations, byte flips, spliced random strings, line shuffles. */
export function mutate(base: string, ops: readonly Mutation[]): string {
  let s = base;
  for (const op of ops) {
    const at = s.length === 0 ? 0 : op.pos % (s.length + 1);
    switch (op.kind) {
      case 'truncate':
        s = s.slice(0, at);
        break;
      case 'flip': {
        const code = s.charCodeAt(at) ^ (1 << (op.bit % 8));
        s = s.slice(0, at) + String.fromCharCode(Number.isNaN(code) ? op.bit : code) + s.slice(at + 1);
        break;
      }
      case 'insert':
        s = s.slice(0, at) + op.text + s.slice(at);
        break;
      case 'delete':
        s = s.slice(0, at) + s.slice(at + op.len);
        break;
      case 'duplicate-line': {
        const lines = s.split('\n');
        const i = op.pos % Math.max(lines.length, 1);
        lines.splice(i, 0, ...Array(1 + (op.len % 50)).fill(lines[i] ?? ''));
        s = lines.join('\n');
        break;
      }
    }
  }
  return s;
}

export type Mutation =
  | { kind: 'truncate'; pos: number }
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'insert'; pos: number; text: string }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'duplicate-line'; pos: number; len: number };
