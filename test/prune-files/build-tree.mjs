// Builds the 100,000-file tree of large-tree.test.ts in a plain Node process: the same loop of
// synchronous file system calls runs ten times slower inside a vitest worker.
// usage: node build-tree.mjs ROOT FILES NOW_MS
import { Buffer } from 'node:buffer';
import { closeSync, futimesSync, mkdirSync, openSync, writeSync } from 'node:fs';
import process from 'node:process';
import { join } from 'node:path';

const [root, filesArg, nowArg] = process.argv.slice(2);
const FILES = Number(filesArg);
const NOW = Number(nowArg);
const DAY = 86_400_000;
const PER_DIR = 100;
const buf = Buffer.alloc(16, 0x78);
for (let i = 0; i < FILES; i++) {
  const d = join(root, `d${Math.floor(i / (PER_DIR * 10))}`, `s${Math.floor(i / PER_DIR) % 10}`);
  if (i % PER_DIR === 0) mkdirSync(d, { recursive: true });
  const fd = openSync(join(d, `f${i}`), 'w');
  // Must match ageOf and sizeOf in large-tree.test.ts.
  writeSync(fd, buf, 0, 1 + (i % 16));
  const t = (NOW - ((i % 20) * DAY + i)) / 1000;
  futimesSync(fd, t, t);
  closeSync(fd);
}
