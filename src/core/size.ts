/** Sizes as written in caretaker.yaml: `512KB 10MB 1GB` (1024-based; `KiB` and `K` accepted too). */

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb?|kib|mb?|mib|gb?|gib|tb?|tib)\s*$/i;
export const SIZE_HINT = 'a size such as 512KB, 10MB or 1GB';

/** Bytes for a size string (or a plain number of bytes), or `undefined` when it is not one. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.floor(text) : undefined;
  const m = SIZE_PATTERN.exec(text);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (UNIT_BYTES[m[2]!.toLowerCase()] ?? NaN));
}

export function formatSize(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let n = Math.abs(bytes);
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${sign}${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)}${units[i]}`;
}
