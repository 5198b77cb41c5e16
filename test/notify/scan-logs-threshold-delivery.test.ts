/**
 * The threshold contract end to end: a real scan-logs run through the engine, its alerts read
 * from `ActionResult.alerts`, delivered by a real command channel that appends each alert to a
 * file — as the demo's `notify:` does. A channel subscribed only to `threshold` must get it.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { AlertEvent } from '../../src/notify/types.js';
import { MIN, T0 } from '../support/engine-harness.js';
import { tempDir } from '../support/tmp.js';

function delivered(file: string): AlertEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AlertEvent);
}

describe('scan-logs thresholds through the engine to a channel', () => {
  it('sends a threshold alert to a command channel with on: [threshold], and a recovery when back under', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, 'ERROR one\nERROR two\nERROR three\nINFO fine\n');
    const out = join(dir, 'alerts.jsonl');
    const config = [
      'version: 1',
      'state_dir: state',
      'notify:',
      `  - { type: command, command: ["sh", "-c", "cat >> '${out}'"], on: [threshold, recovery] }`,
      'tasks:',
      '  scan:',
      '    action: scan-logs',
      '    with: { paths: [app.log], thresholds: { errors: 2 }, on_alert: warn }',
      '',
    ].join('\n');
    const clock = new ManualClock(T0);
    const ct = createCaretaker({ configText: config, baseDir: dir, clock, host: 'test-host' });
    await ct.start();
    try {
      const first = await ct.runNow('scan');
      expect(first.status).toBe('warning');
      expect(first.result?.alerts).toEqual([
        { event: 'threshold', key: 'errors', message: expect.stringMatching(/^errors: 3 matching lines/) },
      ]);
      await ct.alertsIdle();
      const sent = delivered(out);
      expect(sent.map((e) => e.event)).toEqual(['threshold']);
      expect(sent[0]!.message).toMatch(/^errors: 3 matching lines .*over the threshold of 2/);
      expect(sent[0]!.subject).toMatchObject({ kind: 'task', id: 'scan' });

      // One more error only: back under the threshold, the incident closes.
      clock.advance(MIN);
      appendFileSync(log, 'ERROR four\n');
      const second = await ct.runNow('scan');
      expect(second.result?.alerts).toEqual([]);
      await ct.alertsIdle();
      expect(delivered(out).map((e) => e.event)).toEqual(['threshold', 'recovery']);
    } finally {
      await ct.stop(0);
    }
  });
});
