/** Plain-text rendering for the terminal: tables, relative times, statuses. */
import { formatDuration } from '../core/duration.js';
import { formatZoned } from '../core/local-time.js';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "in 4m", "3h 2m ago", "now". */
export function relative(t: number | null, now: number): string {
  if (t === null) return '-';
  const d = t - now;
  if (Math.abs(d) < 1_000) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

/** An instant in a zone, always with the zone's name then (`2027-03-28 03:30 CEST`). */
export function when(t: number | null, zone: string, seconds = false): string {
  return t === null ? '-' : formatZoned(t, zone, { seconds });
}

export function oneLine(text: string | null | undefined, max = 80): string {
  if (!text) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
}

export function ms(value: number | null): string {
  return value === null ? '-' : formatDuration(value);
}
