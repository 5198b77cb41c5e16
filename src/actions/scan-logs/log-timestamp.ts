/**
 * The leading timestamp of a log line, for `since:`. Accepts what logs commonly start with:
 * `2026-11-24T10:00:00Z`, `2026-11-24 10:00:00,123`, `[2026-11-24T10:00:00.123+01:00]`, with a
 * fraction of any length and a zone as `Z`, `±HH:MM`, `±HHMM` or `±HH`. A timestamp without a
 * zone is read as UTC. Read straight from the bytes: no string is made for lines that match.
 */

function digits(buf: Uint8Array, at: number, n: number, end: number): number {
  if (at + n > end) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = buf[at + k]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Epoch milliseconds of the timestamp at the start of the line [start, end), or undefined. */
export function leadingTimestamp(buf: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  if (buf[i] === 0x5b /* [ */) i++;
  const y = digits(buf, i, 4, end);
  if (y < 0 || buf[i + 4] !== 0x2d || buf[i + 7] !== 0x2d) return undefined;
  const mo = digits(buf, i + 5, 2, end);
  const d = digits(buf, i + 8, 2, end);
  const sep = buf[i + 10];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || (sep !== 0x54 && sep !== 0x20 && sep !== 0x74))
    return undefined;
  const h = digits(buf, i + 11, 2, end);
  const mi = digits(buf, i + 14, 2, end);
  const s = digits(buf, i + 17, 2, end);
  if (h < 0 || mi < 0 || s < 0 || buf[i + 13] !== 0x3a || buf[i + 16] !== 0x3a) return undefined;
  i += 19;
  let ms = 0;
  if (i < end && (buf[i] === 0x2e || buf[i] === 0x2c)) {
    i++;
    let scale = 100;
    while (i < end && buf[i]! >= 48 && buf[i]! <= 57) {
      ms += (buf[i]! - 48) * scale;
      scale /= 10;
      i++;
    }
  }
  let t = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(ms);
  const z = buf[i];
  if (z === 0x5a || z === 0x7a) return t;
  if (z === 0x2b || z === 0x2d) {
    const zh = digits(buf, i + 1, 2, end);
    if (zh < 0) return t;
    let zm = digits(buf, i + 3, 2, end);
    if (zm < 0 && buf[i + 3] === 0x3a) zm = digits(buf, i + 4, 2, end);
    const offset = (zh * 60 + Math.max(0, zm)) * 60_000;
    t += z === 0x2b ? -offset : offset;
  }
  return t;
}
