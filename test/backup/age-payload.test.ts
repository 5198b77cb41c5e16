/**
 * The age payload decrypted natively (node:crypto's ChaCha20-Poly1305) must read exactly what the
 * standard `age` CLI writes, at every chunk boundary, and refuse a damaged, truncated or extended
 * file; and what caretaker encrypts (the package's cipher) must still decrypt with `age -d`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decryptStream, encryptStream, parseIdentities } from '../../src/backup/age-stream.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';

const ageMissing =
  spawnSync('age', ['--version']).status === 0
    ? undefined
    : skipBecause('age payload round trips', 'the age CLI is not installed (apt-get install age)', {
        requiredUnderCi: true,
      });

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** The stream in pieces of `piece` bytes: chunk boundaries of the input must not matter. */
function pieces(b: Buffer, piece: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += piece) parts.push(b.subarray(i, i + piece));
  return Readable.from(parts, { objectMode: false });
}

const K = 64 * 1024;

function keys(): { dir: string; keyFile: string; recipient: string; ids: string[] } {
  const dir = tempDir('ct-age-');
  const keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
  return { dir, keyFile, recipient, ids: parseIdentities(readFileSync(keyFile, 'utf8'), keyFile) };
}

describe.skipIf(ageMissing !== undefined)('the age payload, decrypted natively', () => {
  it('reads what `age -r` wrote, at and around every chunk boundary, whatever the input pieces', async () => {
    const { dir, recipient, ids } = keys();
    for (const size of [0, 1, K - 1, K, K + 1, 2 * K, 3 * K + 17, 1024 * 1024]) {
      const plain = randomBytes(size);
      writeFileSync(join(dir, 'p'), plain);
      execFileSync('age', ['-r', recipient, '-o', join(dir, 'p.age'), join(dir, 'p')]);
      const sealed = readFileSync(join(dir, 'p.age'));
      for (const piece of [1 << 20, 7, K + 16]) {
        const out = await readAll(await decryptStream(pieces(sealed, piece), ids, `file of ${size}`));
        expect(out.equals(plain), `${size} bytes in pieces of ${piece}`).toBe(true);
      }
    }
  });

  it('refuses a flipped byte, a cut at a chunk boundary and bytes added at the end, naming the file', async () => {
    const { dir, recipient, ids } = keys();
    const plain = randomBytes(3 * K);
    writeFileSync(join(dir, 'p'), plain);
    const sealed = execFileSync('age', ['-r', recipient, join(dir, 'p')]);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1000] = flipped[flipped.length - 1000]! ^ 1;
    // The header is the start up to its "--- MAC" line, then a 16-byte nonce: cut after two
    // sealed chunks, so that what is left ends cleanly at a chunk boundary.
    const headerEnd = sealed.indexOf(0x0a, sealed.indexOf('\n--- ') + 1) + 1;
    const cut = sealed.subarray(0, headerEnd + 16 + 2 * (K + 16));
    const longer = Buffer.concat([sealed, Buffer.from('x')]);
    for (const [what, bytes] of [
      ['flipped', flipped],
      ['cut', cut],
      ['longer', longer],
    ] as const)
      await expect(
        readAll(await decryptStream(pieces(bytes, 4096), ids, `s3://bkt/${what}`)),
      ).rejects.toThrow(new RegExp(`^s3://bkt/${what} does not decrypt: `));
  });

  it('what caretaker encrypts decrypts with `age -d`, at every chunk boundary, and back', async () => {
    const { dir, keyFile, recipient, ids } = keys();
    const second = keys();
    for (const size of [0, 1, K - 1, K, K + 1, 2 * K, 3 * K + 17, 1024 * 1024]) {
      const plain = randomBytes(size);
      // Two recipients: each key opens it.
      const sealed = await readAll(await encryptStream(pieces(plain, 10_000), [recipient, second.recipient]));
      writeFileSync(join(dir, 's.age'), sealed);
      for (const key of [keyFile, second.keyFile])
        expect(
          execFileSync('age', ['-d', '-i', key, join(dir, 's.age')], { maxBuffer: 4 << 20 }).equals(plain),
          `${size}`,
        ).toBe(true);
      expect((await readAll(await decryptStream(pieces(sealed, 5000), ids, 'x'))).equals(plain)).toBe(true);
    }
    // A fresh file key and nonce each time: the same input never gives the same bytes.
    const a = await readAll(await encryptStream(pieces(Buffer.from('same'), 4), [recipient]));
    const b = await readAll(await encryptStream(pieces(Buffer.from('same'), 4), [recipient]));
    expect(a.equals(b)).toBe(false);
  });
});
