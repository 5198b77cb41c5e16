/**
 * An engine on a manual clock with a real SQLite store in a temp dir, plus a `gate` action whose
 * runs the test finishes by hand: a test drives time and outcomes, nothing sleeps.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { createCaretaker } from '../../src/create-caretaker.js';
import type { Caretaker } from '../../src/caretaker.js';
import { defineAction, type ActionResult } from '../../src/actions/types.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { RunRecord, Store } from '../../src/store/types.js';
import { onTestFinished } from 'vitest';
import { advance, advanceTo, settle } from './clock-driver.js';
import { tempDir } from './tmp.js';

export const T0 = Date.UTC(2026, 10, 24, 0, 0, 0); // Tuesday 2026-11-24 00:00 UTC
export const MIN = 60_000;
export const HOUR = 3_600_000;

interface Held {
  taskId: string;
  runId: number;
  finish: (r: ActionResult) => void;
}

export class Gates {
  readonly starts: string[] = [];
  readonly held: Held[] = [];

  readonly action = defineAction({
    name: 'gate',
    description: 'a run the test finishes by hand',
    schema: z.strictObject({ outcome: z.enum(['hold', 'ok', 'fail', 'throw']).optional() }),
    run: (ctx, o) => {
      this.starts.push(ctx.taskId);
      const outcome = o.outcome ?? 'hold';
      if (outcome === 'ok') return Promise.resolve({ ok: true, summary: 'ok' });
      if (outcome === 'fail') return Promise.resolve({ ok: false, summary: 'failed on purpose' });
      if (outcome === 'throw') return Promise.reject(new Error('thrown on purpose'));
      return new Promise<ActionResult>((resolve) => {
        const held: Held = { taskId: ctx.taskId, runId: ctx.runId, finish: resolve };
        this.held.push(held);
        ctx.signal.addEventListener('abort', () => resolve({ ok: false, summary: 'stopped by abort' }), {
          once: true,
        });
      });
    },
  });

  /** Finishes the oldest held run of the task. */
  release(taskId: string, ok = true): void {
    const i = this.held.findIndex((h) => h.taskId === taskId);
    if (i < 0)
      throw new Error(`no held run of ${taskId}; held: ${this.held.map((h) => h.taskId).join(', ')}`);
    const [h] = this.held.splice(i, 1);
    h!.finish({ ok, summary: ok ? 'released ok' : 'released as failed' });
  }

  holding(): string[] {
    return this.held.map((h) => h.taskId);
  }
}

export interface Harness {
  readonly dir: string;
  readonly clock: ManualClock;
  readonly gates: Gates;
  ct: Caretaker;
  readonly finished: RunRecord[];
  /** Moves the clock and lets the engine react. */
  advance(ms: number): Promise<void>;
  advanceTo(t: number): Promise<void>;
  settle(): Promise<void>;
  runs(task?: string): Promise<RunRecord[]>;
  /** Stops this caretaker and starts a new one on the same state dir at `at` (a restart). */
  restart(at: number, configText?: string): Promise<void>;
  stop(): Promise<void>;
  /** The store the caretaker writes, opened a second time (to plant rows or read samples). */
  store(): Promise<Store>;
}

export function configText(tasks: string, top = ''): string {
  return `version: 1\nstate_dir: state\n${top}\ntasks:\n${tasks}`;
}

export async function harness(
  tasks: string,
  opts: { top?: string; start?: number; autostart?: boolean; logger?: Logger } = {},
): Promise<Harness> {
  const dir = tempDir('ct-engine-');
  const clock = new ManualClock(opts.start ?? T0);
  const gates = new Gates();
  const finished: RunRecord[] = [];
  let store: Store | undefined;
  let text = configText(tasks, opts.top);
  const make = () => {
    const ct = createCaretaker({
      configText: text,
      baseDir: dir,
      clock,
      actions: [gates.action],
      host: 'test-host',
      logger: opts.logger,
    });
    ct.on('run:finished', (r) => finished.push(r));
    return ct;
  };
  const h: Harness = {
    dir,
    clock,
    gates,
    ct: make(),
    finished,
    advance: (ms) => advance(clock, ms),
    advanceTo: (t) => advanceTo(clock, t),
    settle,
    async runs(task) {
      return (await h.ct.history({ task, limit: 10_000 })).reverse();
    },
    async restart(at, newText) {
      await h.ct.stop(0);
      clock.advanceTo(at);
      if (newText) text = newText;
      h.ct = make();
      await h.ct.start();
      await settle();
    },
    async stop() {
      await h.ct.stop(0);
    },
    async store() {
      // A second connection to the caretaker's own database, for what a test plants or reads there.
      if (!store) {
        const { openStore } = await import('../../src/store/open-store.js');
        store = await openStore(h.ct.config.store);
        onTestFinished(() => store?.close());
      }
      return store;
    },
  };
  if (opts.autostart !== false) {
    await h.ct.start();
    await settle();
  }
  return h;
}
