/**
 * FNV-1a, 32 bits: a stable, dependency-free hash used to spread tasks (jitter) and retries
 * deterministically. Not for security.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so that keys differing only at the end still spread over the range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** A number in [0, 1) derived from the key, the same on every call. */
export function unitHash(key: string): number {
  return fnv1a(key) / 2 ** 32;
}
