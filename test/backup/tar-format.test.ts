import { describe, expect, it } from 'vitest';
import { Header } from 'tar';
import { encodePlainUstar, type PlainHeader } from '../../src/backup/ustar-header.js';
import { TarFormatError, TarParser, type TarEntry } from '../../src/backup/tar-parser.js';

const TYPES = { '0': 'File', '5': 'Directory', '2': 'SymbolicLink' } as const;

const CASES: PlainHeader[] = [
  {
    path: 'srv/app/data/x.log',
    typeflag: '0',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 1234,
    mtimeMs: 1_700_000_000_123,
    linkpath: '',
  },
  {
    path: 'srv/app/',
    typeflag: '5',
    mode: 0o755,
    uid: 1000,
    gid: 1000,
    size: 0,
    mtimeMs: 1_000,
    linkpath: '',
  },
  {
    path: 'srv/link',
    typeflag: '2',
    mode: 0o777,
    uid: 65534,
    gid: 65534,
    size: 0,
    mtimeMs: 1_700_000_000_999,
    linkpath: '../x/y',
  },
  {
    path: 'big.bin',
    typeflag: '0',
    mode: 0o4755,
    uid: 0,
    gid: 0,
    size: 8 * 1024 ** 3 - 1,
    mtimeMs: 0,
    linkpath: '',
  },
];

describe('the tar header fast paths', () => {
  it('encode byte for byte what the tar package encodes', () => {
    for (const c of CASES) {
      const ours = Buffer.alloc(512);
      const theirs = Buffer.alloc(512);
      expect(encodePlainUstar(ours, 0, c)).toBe(true);
      new Header({
        path: c.path,
        type: TYPES[c.typeflag],
        size: c.size,
        mode: c.mode,
        mtime: new Date(c.mtimeMs),
        uid: c.uid,
        gid: c.gid,
        linkpath: c.linkpath || undefined,
      }).encode(theirs, 0);
      expect(ours.equals(theirs), c.path).toBe(true);
    }
  });

  it('leave long, non-ASCII or huge entries to the general encoder', () => {
    const buf = Buffer.alloc(512);
    const base = CASES[0]!;
    expect(encodePlainUstar(buf, 0, { ...base, path: `${'d/'.repeat(50)}x` })).toBe(false);
    expect(encodePlainUstar(buf, 0, { ...base, path: 'ünï.txt' })).toBe(false);
    expect(encodePlainUstar(buf, 0, { ...base, size: 8 * 1024 ** 3 })).toBe(false);
  });

  it('decode what they encode, and what the tar package encodes for the rest', () => {
    const entries: TarEntry[] = [];
    const parser = new TarParser({ entry: (e) => entries.push(e), data: () => {}, entryEnd: () => {} });
    for (const c of CASES.slice(0, 3)) {
      const block = Buffer.alloc(512);
      encodePlainUstar(block, 0, c);
      parser.push(block);
      parser.push(Buffer.alloc(Math.ceil(c.size / 512) * 512)); // the entry's (padded) data
    }
    // A base-256 size (over 8 GB) only the general decoder understands; no data follows in
    // this test, so stop after its header.
    const huge = Buffer.alloc(512);
    new Header({
      path: 'huge.bin',
      type: 'File',
      size: 9 * 1024 ** 3,
      mode: 0o600,
      mtime: new Date(0),
    }).encode(huge, 0);
    parser.push(huge);
    expect(entries.map((e) => [e.path, e.type, e.size, e.mode, e.mtimeMs, e.linkpath])).toEqual([
      ['srv/app/data/x.log', 'File', 1234, 0o644, 1_700_000_000_000, ''],
      ['srv/app', 'Directory', 0, 0o755, 1_000, ''],
      ['srv/link', 'SymbolicLink', 0, 0o777, 1_700_000_000_000, '../x/y'],
      ['huge.bin', 'File', 9 * 1024 ** 3, 0o600, 0, ''],
    ]);
  });
});

describe('a damaged tar header', () => {
  it('is a TarFormatError naming the place, not a crash, when a number field is out of range', () => {
    // What one flipped byte in a gzip stream can inflate to: a header whose size field is a
    // base-256 number beyond 2^53 (tar's Header throws a plain Error on it).
    const block = Buffer.alloc(512);
    block.write('data/x.bin', 0, 'utf8');
    block.write('0000644\0', 100, 'ascii');
    block[124] = 0x80;
    block.fill(0xff, 125, 136);
    block.write('ustar\0', 257, 'ascii');
    const parser = new TarParser({ entry: () => {}, data: () => {}, entryEnd: () => {} });
    parser.current = 'data/before.bin';
    expect(() => parser.push(block)).toThrow(TarFormatError);
    expect(() => new TarParser({ entry: () => {}, data: () => {}, entryEnd: () => {} }).push(block)).toThrow(
      /^unreadable tar header after the start: /,
    );
  });

  /** A valid header block of a file, with `patch` applied and the checksum made right again. */
  function header(patch: (b: Buffer) => void, typeflag = '0'): Buffer {
    const b = Buffer.alloc(512);
    b.write('data/x.bin', 0, 'utf8');
    b.write('0000644\0', 100, 'ascii');
    b.write('0000000\0', 108, 'ascii');
    b.write('0000000\0', 116, 'ascii');
    b.write('00000000000\0', 124, 'ascii');
    b.write('14000000000\0', 136, 'ascii');
    b.write(typeflag, 156, 'ascii');
    b.write('ustar\0', 257, 'ascii');
    b.write('00', 263, 'ascii');
    patch(b);
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of b) sum += x;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    return b;
  }

  it('refuses a negative (base-256) size, as GNU tar does, instead of reading an empty file', () => {
    const block = header((b) => {
      b.fill(0xff, 124, 136); // -1 in base-256 two's complement
      b[135] = 0xfb; // -5
    });
    const seen: TarEntry[] = [];
    const parser = new TarParser({ entry: (e) => seen.push(e), data: () => {}, entryEnd: () => {} });
    expect(() => parser.push(block)).toThrow(
      /^invalid size \(-5\) in the tar header of data\/x\.bin after the start$/,
    );
    expect(seen).toEqual([]);
  });

  it('refuses a pax size that is not a number', () => {
    const body = '16 size=banana\n';
    const pax = header((b) => {
      b.write('PaxHeader/x', 0, 'utf8');
      b.write(body.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    }, 'x');
    const data = Buffer.alloc(512);
    data.write(body, 0, 'utf8');
    const file = header(() => {});
    const seen: TarEntry[] = [];
    const parser = new TarParser({ entry: (e) => seen.push(e), data: () => {}, entryEnd: () => {} });
    expect(() => parser.push(Buffer.concat([pax, data, file]))).toThrow(
      /^invalid size \(banana\) in a pax header after the start$/,
    );
    expect(seen).toEqual([]);
  });
});
