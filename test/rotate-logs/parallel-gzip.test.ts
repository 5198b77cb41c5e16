/**
 * The parallel gzip: blocks deflated on worker threads, chained by dictionaries, assembled into
 * one gzip member that the real `gzip -d` reads, within 2% of `gzip -6`'s size.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32Combine } from '../../src/actions/rotate-logs/crc32-combine.js';
import { gzipFile } from '../../src/actions/rotate-logs/gzip-file.js';
import { GzipPool } from '../../src/actions/rotate-logs/gzip-pool.js';
import { tempDir } from '../support/tmp.js';

/** Log-like text: repetitive structure, varying fields, a known seed. */
function logText(bytes: number, seed = 7): Buffer {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const parts: string[] = [];
  let n = 0;
  let t = Date.UTC(2026, 0, 1);
  while (n < bytes) {
    t += Math.floor(rnd() * 500);
    const line = `${new Date(t).toISOString()} ${rnd() < 0.9 ? 'INFO' : 'ERROR'} req=${Math.floor(rnd() * 1e6).toString(36)} path=/api/v1/items/${Math.floor(rnd() * 5000)} status=${rnd() < 0.95 ? 200 : 503} took=${(rnd() * 90).toFixed(1)}ms\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

const pool = new GzipPool(2);
afterAll(() => pool.close());

async function gz(src: string, dst: string, blockSize?: number) {
  const fh = await open(src);
  try {
    return await gzipFile(pool, fh, dst, { level: 6, blockSize });
  } finally {
    await fh.close();
  }
}

describe('parallel gzip', () => {
  it('combines CRC-32s of parts into the CRC-32 of the whole', () => {
    const data = logText(300_000);
    for (const cut of [0, 1, 4096, 123_457, 299_999, 300_000]) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(data));
    }
  });

  it('writes one gzip stream that gzip -d reads back byte for byte, within 2% of gzip -6', async () => {
    const dir = tempDir();
    const src = join(dir, 'app.log');
    const data = logText(6 * 1024 * 1024 + 12_345);
    writeFileSync(src, data);
    // Small blocks: many dictionary hand-overs, several on each thread.
    const r = await gz(src, join(dir, 'app.log.gz'), 256 * 1024);
    expect(r.bytesIn).toBe(data.length);
    expect(r.sizeAfter).toBe(data.length);
    const back = execFileSync('gzip', ['-dc', join(dir, 'app.log.gz')], { maxBuffer: 64 << 20 });
    expect(back.equals(data)).toBe(true);
    execFileSync('gzip', ['-t', join(dir, 'app.log.gz')]);
    const reference = execFileSync('gzip', ['-6', '-c', src], { maxBuffer: 64 << 20 }).length;
    const ours = statSync(join(dir, 'app.log.gz')).size;
    expect(ours).toBe(r.bytesOut);
    expect(Math.abs(ours - reference) / reference).toBeLessThan(0.02);
  });

  it('compresses an empty file into a valid empty gzip file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.log'), '');
    await gz(join(dir, 'empty.log'), join(dir, 'empty.log.gz'));
    expect(execFileSync('gzip', ['-dc', join(dir, 'empty.log.gz')]).length).toBe(0);
  });

  it('keeps the source mtime and mode on the compressed file and never writes through a planted file', async () => {
    const dir = tempDir();
    const src = join(dir, 'app.log');
    writeFileSync(src, logText(10_000), { mode: 0o640 });
    const then = new Date('2026-01-02T03:04:05Z');
    utimesSync(src, then, then);
    await gz(src, join(dir, 'app.log.gz'));
    const st = statSync(join(dir, 'app.log.gz'));
    expect(st.mtime.getTime()).toBe(then.getTime());
    expect(st.mode & 0o777).toBe(0o640);
    // The destination is created exclusively: an existing file there is an error, not a target.
    writeFileSync(join(dir, 'taken.gz'), 'precious');
    await expect(gz(src, join(dir, 'taken.gz'))).rejects.toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'taken.gz'), 'utf8')).toBe('precious');
  });
});
