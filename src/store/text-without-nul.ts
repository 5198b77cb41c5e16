/**
 * Text a store keeps holds no NUL character: PostgreSQL's text and jsonb refuse it, and
 * node:sqlite (Node 22+) stores it but reads the text back only up to it. A task's output may
 * have one (`printf 'a\0b'`): it becomes U+FFFD, the same on every store and driver.
 */
const noNul = (_key: string, v: unknown): unknown =>
  typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v;

/** JSON text without NUL characters. */
export const jsonWithoutNul = (value: unknown): string => JSON.stringify(value, noNul);

/** A text value without NUL characters. */
export const textWithoutNul = <T extends string | null | undefined>(v: T): T => noNul('', v) as T;
