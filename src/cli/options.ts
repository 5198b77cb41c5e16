/** Flag values checked once, with the one-line message a user sees for a wrong one. */
import { UsageError } from '../errors/usage-error.js';

/** A whole number ≥ 1 (`--limit`, `--days`), or the fallback when the flag is absent. */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${flag} expects a whole number ≥ 1, got "${value}"`);
  return Number(value);
}
