/** The metrics textfile: atomic replacement, writes coalesced, a failing directory logged once. */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MetricsTextfile } from '../../src/engine/metrics-textfile.js';
import { tempDir } from '../support/tmp.js';

function logger() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe('metrics textfile', () => {
  it('coalesces the writes asked for while one is going into one more, with the newest text', async () => {
    const dir = tempDir();
    const path = join(dir, 'caretaker.prom');
    let n = 0;
    let texts = 0;
    const f = new MetricsTextfile({
      text: async () => {
        texts++;
        await new Promise((r) => setImmediate(r));
        return `m ${++n}\n`;
      },
      path: () => path,
      logger: logger().log,
    });
    await Promise.all([f.update(), f.update(), f.update(), f.update()]);
    // The first write, then one for the three asked meanwhile.
    expect(texts).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe('m 2\n');
    expect(readdirSync(dir)).toEqual(['caretaker.prom']); // no temp file left beside it
  });

  it('logs a directory it cannot write to once, and says so when it writes again', async () => {
    const dir = tempDir();
    const path = join(dir, 'missing', 'caretaker.prom');
    const { log, lines } = logger();
    const f = new MetricsTextfile({ text: async () => 'm 1\n', path: () => path, logger: log });
    await f.update();
    await f.update();
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      `could not write the metrics textfile ${path}`,
    ]);
    mkdirSync(join(dir, 'missing'));
    await f.update();
    expect(readFileSync(path, 'utf8')).toBe('m 1\n');
    expect(lines.at(-1)!.msg).toBe('metrics textfile written again');
  });

  it('writes nothing once the path is removed from the configuration', async () => {
    const dir = tempDir();
    let path: string | null = join(dir, 'caretaker.prom');
    const f = new MetricsTextfile({ text: async () => 'm 1\n', path: () => path, logger: logger().log });
    await f.update();
    expect(readdirSync(dir)).toEqual(['caretaker.prom']);
    rmSync(path);
    path = null;
    await f.update();
    expect(readdirSync(dir)).toEqual([]);
  });
});
