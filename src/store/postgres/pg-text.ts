/**
 * PostgreSQL text and jsonb hold no NUL character, which a task's output may have (SQLite keeps
 * it): in this store it becomes U+FFFD rather than failing the write that records the run.
 */
const noNul = (_key: string, v: unknown): unknown =>
  typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v;

/** JSON for a jsonb parameter, without NUL characters. */
export const pgJson = (value: unknown): string => JSON.stringify(value, noNul);

/** A text parameter without NUL characters. */
export const pgText = <T extends string | null | undefined>(v: T): T => noNul('', v) as T;
