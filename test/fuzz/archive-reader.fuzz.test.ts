/**
 * The backup archive reader on damaged tar.gz bytes: a real archive (entries and the embedded
 * manifest, as backups write them) with flipped bytes, cut short, spliced or zeroed. Verifying it
 * gives a verdict, never an exception; reading it ends or fails with the reader's own
 * ArchiveReadError — never another error, never a hang.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftArchive } from '../backup/backup-harness.js';
import { FuzzWorker, fuzzParams } from '../support/fuzz.js';

const TIMEOUT_MS = 10_000;
const worker = new FuzzWorker();
afterAll(() => worker.close());

let archive: Uint8Array;
let dir: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-fuzz-archive-'));
  const file = join(dir, 'crafted.tar.gz');
  await craftArchive(file, [
    { path: 'srv/', type: 'dir' },
    { path: 'srv/app/', type: 'dir' },
    { path: 'srv/app/config.yaml', type: 'file', content: 'a: 1\n'.repeat(200) },
    { path: 'srv/app/empty', type: 'file', content: '' },
    { path: 'srv/app/data.bin', type: 'file', content: 'x'.repeat(70_000) },
    { path: 'srv/app/current', type: 'symlink', target: 'config.yaml' },
  ]);
  archive = new Uint8Array(readFileSync(file));
});

type Damage =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'cut'; pos: number }
  | { kind: 'zero'; pos: number; len: number }
  | { kind: 'splice'; pos: number; bytes: Uint8Array };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('cut' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('zero' as const), pos: fc.nat(), len: fc.nat(2048) }),
  fc.record({
    kind: fc.constant('splice' as const),
    pos: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 600 }),
  }),
);

function damaged(base: Uint8Array, ops: readonly Damage[]): Uint8Array {
  let b = Uint8Array.from(base);
  for (const op of ops) {
    const at = b.length === 0 ? 0 : op.pos % b.length;
    if (op.kind === 'flip') {
      if (b.length > 0) b[at] = b[at]! ^ (1 << op.bit);
    } else if (op.kind === 'cut') b = b.slice(0, at);
    else if (op.kind === 'zero') b.fill(0, at, at + op.len);
    else {
      const out = new Uint8Array(b.length + op.bytes.length);
      out.set(b.subarray(0, at));
      out.set(op.bytes, at);
      out.set(b.subarray(at), at + op.bytes.length);
      b = out;
    }
  }
  return b;
}

describe('fuzz: the backup archive reader', () => {
  it('verifies or rejects damaged archives cleanly', async () => {
    const { seed, numRuns } = fuzzParams('archive reader, damaged tar.gz', 200);
    await fc.assert(
      fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 4 }), async (ops) => {
        const bytes = damaged(archive, ops);
        const r = await worker.run('archive', bytes, TIMEOUT_MS);
        expect(
          r.kind === 'ok' || r.kind === 'expected',
          `${r.kind}: ${r.detail}\ndamage: ${JSON.stringify(ops)}`,
        ).toBe(true);
      }),
      { seed, numRuns },
    );
  }, 60_000);
});
