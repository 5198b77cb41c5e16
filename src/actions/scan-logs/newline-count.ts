/**
 * Counting newlines (for the line numbers of samples) at memory speed. A `Buffer.indexOf(10)`
 * loop costs a native call per line — about as much as the whole pattern scan on a log of short
 * lines (bench/scan). This 300-byte WebAssembly function compares 64 bytes per step with SIMD,
 * and when the chunk was read straight into its memory, counting costs next to nothing.
 *
 * The module is assembled here from its opcodes, so what runs is what is written below:
 *
 *   (func (export "count") (param $p i32) (param $n i32) (result i32)   ;; newlines in [p, p+n)
 *     nl = i8x16.splat(10); end = p + n; vend = end - 64
 *     while p <= vend:                         ;; blocks of up to 63 × 64 bytes
 *       acc = 0 (i8x16); k = 63
 *       while p <= vend && k != 0:
 *         4× acc = i8x16.sub(acc, i8x16.eq(v128.load(p + 16j), nl))   ;; +1 per newline byte
 *         p += 64; k -= 1
 *       total += sum of acc's lanes (extadd_pairwise twice, then 4 lanes)   ;; ≤ 252 per lane
 *     while p < end: total += (load8_u(p) == 10); p += 1
 *     return total)
 */

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...Buffer.from(s)].map((b) => [b]));

function assemble(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const [P, N, END, TOTAL, K, VEND, ACC, NL] = [0, 1, 2, 3, 4, 5, 6, 7];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const c32 = (v: number) => [0x41, ...sleb(v)];
  const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
  const [block, loop, end] = [[0x02, 0x40], [0x03, 0x40], [0x0b]];
  const br = (d: number) => [0x0c, d];
  const brIf = (d: number) => [0x0d, d];
  const [add, sub, eqz, eq, gtS, geU, load8u] = [0x6a, 0x6b, 0x45, 0x46, 0x4a, 0x4f, 0x2d];
  const [v128load, v128const, splat, extract, i8eq, i8sub, extaddI8, extaddI16] = [
    0x00, 0x0c, 0x0f, 0x1b, 0x23, 0x71, 0x7d, 0x7f,
  ];
  const step = (off: number) => [
    ...get(ACC),
    ...get(P),
    ...simd(v128load, 0, off),
    ...get(NL),
    ...simd(i8eq),
    ...simd(i8sub),
    ...set(ACC),
  ];
  const lane = (l: number) => [...get(ACC), ...simd(extract, l), add];
  // prettier-ignore
  const body = [
    ...c32(10), ...simd(splat), ...set(NL),
    ...get(P), ...get(N), add, ...set(END),
    ...get(END), ...c32(64), sub, ...set(VEND),
    ...block, ...loop,
    ...get(P), ...get(VEND), gtS, ...brIf(1),
    ...simd(v128const, ...new Array<number>(16).fill(0)), ...set(ACC),
    ...c32(63), ...set(K),
    ...block, ...loop,
    ...get(P), ...get(VEND), gtS, ...brIf(1),
    ...get(K), eqz, ...brIf(1),
    ...step(0), ...step(16), ...step(32), ...step(48),
    ...get(P), ...c32(64), add, ...set(P),
    ...get(K), ...c32(1), sub, ...set(K),
    ...br(0),
    ...end, ...end,
    ...get(ACC), ...simd(extaddI8), ...simd(extaddI16), ...set(ACC),
    ...get(TOTAL), ...lane(0), ...lane(1), ...lane(2), ...lane(3), ...set(TOTAL),
    ...br(0),
    ...end, ...end,
    ...block, ...loop,
    ...get(P), ...get(END), geU, ...brIf(1),
    ...get(TOTAL), ...get(P), load8u, 0, 0, ...c32(10), eq, add, ...set(TOTAL),
    ...get(P), ...c32(1), add, ...set(P),
    ...br(0),
    ...end, ...end,
    ...get(TOTAL), ...end,
  ];
  const func = [
    ...vec([
      [...uleb(4), I32],
      [...uleb(2), V128],
    ]),
    ...body,
  ];
  // prettier-ignore
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[I32]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...name('mem'), 0x02, 0], [...name('count'), 0x00, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}

const PAGE = 65536;
/** Bytes at the start of the memory used to count buffers that live elsewhere. */
const SCRATCH = 1 << 20;

// The project compiles without the DOM library, where the WebAssembly types live: the little
// used here, declared.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

function module(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = assemble();
      compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
    } catch {
      compiled = null; // no WebAssembly (e.g. --jitless): count with indexOf
    }
  }
  return compiled ?? null;
}

/** Counts newlines; hands out read buffers inside its memory so counting them needs no copy. */
export class NewlineCounter {
  readonly #mem: WasmMemory | undefined;
  readonly #count: ((p: number, n: number) => number) | undefined;
  #region: Buffer | undefined;

  constructor() {
    const m = module();
    if (m && wasm) {
      const inst = new wasm.Instance(m);
      this.#mem = inst.exports.mem as WasmMemory;
      this.#count = inst.exports.count as (p: number, n: number) => number;
      this.#mem.grow(SCRATCH / PAGE);
    }
  }

  get accelerated(): boolean {
    return this.#count !== undefined;
  }

  /**
   * A buffer of at least `size` bytes to read into; its first `keep` bytes are those of the
   * previous buffer it handed out (which may become unusable: use only the returned one).
   */
  buffer(size: number, keep = 0): Buffer {
    if (!this.#mem) {
      const b = Buffer.allocUnsafe(size);
      this.#region?.copy(b, 0, 0, keep);
      this.#region = b;
      return b;
    }
    const need = SCRATCH + size;
    if (this.#mem.buffer.byteLength < need)
      this.#mem.grow(Math.ceil((need - this.#mem.buffer.byteLength) / PAGE));
    // Growing moves the memory to a new ArrayBuffer; the bytes stay at the same offsets.
    this.#region = Buffer.from(this.#mem.buffer, SCRATCH, this.#mem.buffer.byteLength - SCRATCH);
    return this.#region;
  }

  /** Newlines in buf[start, end). */
  count(buf: Buffer, start: number, end: number): number {
    if (end <= start) return 0;
    if (!this.#count || !this.#mem) return countByIndexOf(buf, start, end);
    if (buf.buffer === this.#mem.buffer) return this.#count(buf.byteOffset + start, end - start);
    let total = 0;
    const scratch = new Uint8Array(this.#mem.buffer, 0, SCRATCH);
    for (let p = start; p < end; p += SCRATCH) {
      const n = Math.min(SCRATCH, end - p);
      scratch.set(buf.subarray(p, p + n));
      total += this.#count(0, n);
    }
    return total;
  }
}

export function countByIndexOf(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let p = start;
  for (;;) {
    const i = buf.indexOf(10, p);
    if (i < 0 || i >= end) return n;
    n++;
    p = i + 1;
  }
}
