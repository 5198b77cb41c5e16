// Builds the benchmark tree: FILES files of 1-512 bytes, 100 per directory, every other one
// with an mtime 30 days back (the rest are fresh).
// usage: node build-tree.mjs ROOT FILES
import { closeSync, futimesSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [root, filesArg] = process.argv.slice(2);
const FILES = Number(filesArg);
const old = Date.now() / 1000 - 30 * 86_400;
const buf = Buffer.alloc(512, 0x78);
for (let i = 0; i < FILES; i++) {
  const d = join(root, `d${Math.floor(i / 1000)}`, `s${Math.floor(i / 100) % 10}`);
  if (i % 100 === 0) mkdirSync(d, { recursive: true });
  const fd = openSync(join(d, `f${i}.cache`), 'w');
  writeSync(fd, buf, 0, 1 + ((i * 7919) % 512));
  if (i % 2 === 0) futimesSync(fd, old, old);
  closeSync(fd);
}
