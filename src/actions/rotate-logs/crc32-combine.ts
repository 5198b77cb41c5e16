/**
 * CRC-32 of a concatenation from the CRCs of its parts (zlib's crc32_combine), so that blocks
 * compressed on different threads each bring their own CRC and the gzip trailer still holds the
 * CRC of the whole file without a second pass over it.
 */

function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}

/** CRC-32 of A+B, given crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let c = crc1 >>> 0;
  let len = len2;
  // Apply len2 zero bytes to crc1, squaring the operator for each bit of the length.
  for (;;) {
    gf2Square(even, odd);
    if (len % 2 === 1) c = gf2Times(even, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2 === 1) c = gf2Times(odd, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (c ^ crc2) >>> 0;
}
