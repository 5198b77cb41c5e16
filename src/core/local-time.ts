/** Wall-clock parts of an instant in a time zone, via Intl (cached formatters; pure). */

export interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Zones that are UTC by another name: their parts need no Intl (whose first use loads ICU's zones). */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Zulu', 'Universal', 'Etc/Universal']);

export function localParts(t: number, zone: string): LocalParts {
  if (UTC_ZONES.has(zone)) {
    const d = new Date(t);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(zone).formatToParts(new Date(t))) {
    switch (p.type) {
      case 'year':
        out.year = Number(p.value);
        break;
      case 'month':
        out.month = Number(p.value);
        break;
      case 'day':
        out.day = Number(p.value);
        break;
      case 'hour':
        out.hour = Number(p.value);
        break;
      case 'minute':
        out.minute = Number(p.value);
        break;
      case 'second':
        out.second = Number(p.value);
        break;
      case 'weekday':
        out.weekday = WEEKDAYS[p.value] ?? 0;
        break;
    }
  }
  return out;
}

/** `2026-11-24 02:00` (or `02:00:30` with seconds) in the zone, for humans. */
export function formatLocal(t: number, zone: string, opts: { seconds?: boolean } = {}): string {
  const p = localParts(t, zone);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(p.hour)}:${two(p.minute)}${opts.seconds ? `:${two(p.second)}` : ''}`;
  return `${p.year}-${two(p.month)}-${two(p.day)} ${time}`;
}

const zoneNames = new Map<string, Intl.DateTimeFormat[]>();

/**
 * The zone's name at that instant as people write it — `UTC`, `CET`/`CEST`, `EST`/`EDT`, else the
 * offset (`GMT+9`) — so the two 01:30s of a DST fall-back read apart.
 */
export function zoneLabel(t: number, zone: string): string {
  let fmts = zoneNames.get(zone);
  if (!fmts) {
    // en-US knows the American abbreviations, en-GB the European ones; both fall back to GMT±h.
    fmts = ['en-US', 'en-GB'].map(
      (l) => new Intl.DateTimeFormat(l, { timeZone: zone, timeZoneName: 'short' }),
    );
    zoneNames.set(zone, fmts);
  }
  const [us, gb] = fmts.map(
    (f) => f.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value,
  );
  return us && !us.startsWith('GMT') ? us : (gb ?? us ?? zone);
}

/** `2027-03-28 03:30 CEST`: local time in the zone, with the zone's name at that instant. */
export function formatZoned(t: number, zone: string, opts: { seconds?: boolean } = {}): string {
  return `${formatLocal(t, zone, opts)} ${zoneLabel(t, zone)}`;
}
