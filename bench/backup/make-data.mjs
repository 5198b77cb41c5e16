/**
 * Deterministic benchmark inputs: a tree of many small files (log lines, JSON, some binary) and
 * one large file, generated from a fixed seed so every run compresses the same bytes.
 */
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  writeSync,
  writeFileSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';

const WORDS = (
  'the request response user session token cache miss hit latency error warning info debug retry ' +
  'timeout upstream database query commit rollback worker queue job scheduled completed failed ' +
  'GET POST PUT DELETE /api/v1/items /api/v1/users /healthz 200 201 204 301 404 500 503'
).split(' ');

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function textBytes(rnd, size, t0) {
  const parts = [];
  let len = 0;
  let t = t0;
  while (len < size) {
    t += Math.floor(rnd() * 2000);
    const n = 6 + Math.floor(rnd() * 14);
    const words = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rnd() * WORDS.length)]);
    const line =
      rnd() < 0.3
        ? `{"ts":${t},"level":"${WORDS[Math.floor(rnd() * 4) + 12]}","msg":"${words.join(' ')}","id":"${Math.floor(rnd() * 1e9).toString(16)}"}\n`
        : `${new Date(t).toISOString()} ${words.join(' ')} id=${Math.floor(rnd() * 1e9).toString(16)}\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function randomBytes(rnd, size) {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** ~`files` files averaging ~2.5 KB in nested directories. Returns the total bytes written. */
export function makeTree(dir, files = 100_000) {
  const marker = join(dir, '.complete');
  // Made before with the same count: kept (a --quick run's 10,000 files are not 100,000).
  if (existsSync(marker) && readFileSync(marker, 'utf8') === String(files)) return;
  rmSync(dir, { recursive: true, force: true });
  const rnd = rng(42);
  let n = 0;
  const perDir = 200;
  for (let a = 0; n < files; a++) {
    for (let b = 0; b < 25 && n < files; b++) {
      const sub = join(dir, `svc-${a}`, `part-${String(b).padStart(2, '0')}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < perDir && n < files; f++, n++) {
        const r = rnd();
        // Mostly small files, a few larger ones: mean ≈ 2.5 KB.
        const size =
          r < 0.7
            ? 200 + Math.floor(rnd() * 1800)
            : r < 0.97
              ? 2000 + Math.floor(rnd() * 4000)
              : 10_000 + Math.floor(rnd() * 30_000);
        const binary = rnd() < 0.05;
        const name = binary ? `blob-${n}.bin` : rnd() < 0.5 ? `events-${n}.log` : `record-${n}.json`;
        writeFileSync(
          join(sub, name),
          binary ? randomBytes(rnd, size) : textBytes(rnd, size, 1.7e12 + n * 1000),
        );
      }
    }
  }
  writeFileSync(marker, String(files));
}

/** One file of `bytes` of log-like text (a database dump or a log compresses like this). */
export function makeBigFile(path, bytes) {
  if (existsSync(`${path}.complete`)) return;
  const rnd = rng(7);
  const fd = openSync(path, 'w');
  const chunk = 4 << 20;
  for (let done = 0; done < bytes; done += chunk) {
    writeSync(fd, textBytes(rnd, Math.min(chunk, bytes - done), 1.7e12 + done));
  }
  closeSync(fd);
  writeFileSync(`${path}.complete`, String(bytes));
}
