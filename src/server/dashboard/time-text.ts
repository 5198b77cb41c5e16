/** How times, durations and schedules read on the pages: always with their zone. */
import { formatDuration } from '../../core/duration.js';
import { localParts } from '../../core/local-time.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** `2026-11-24 12:00:05 UTC`, in the given zone; an em dash for none. */
export function timeText(t: number | null | undefined, zone: string): string {
  if (t === null || t === undefined) return '—';
  const p = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(t))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** The instant as ISO 8601 (a <time datetime>). */
export const isoText = (t: number): string => new Date(t).toISOString();

/** "3 min ago", "in 2 h". */
export function relativeText(t: number | null | undefined, now: number): string {
  if (t === null || t === undefined) return '';
  const d = t - now;
  const abs = Math.abs(d);
  const text = abs < 1_000 ? 'now' : formatDuration(Math.round(abs / 1_000) * 1_000);
  if (text === 'now') return text;
  return d < 0 ? `${text} ago` : `in ${text}`;
}

export function durationText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1_000) return `${ms} ms`;
  return formatDuration(ms < 60_000 ? Math.round(ms / 100) * 100 : Math.round(ms / 1_000) * 1_000);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const NICK: Record<string, string> = {
  '@yearly': 'every year on 1 January at 00:00',
  '@annually': 'every year on 1 January at 00:00',
  '@monthly': 'on the 1st of every month at 00:00',
  '@weekly': 'every Sunday at 00:00',
  '@daily': 'every day at 00:00',
  '@midnight': 'every day at 00:00',
  '@hourly': 'every hour on the hour',
};

const two = (n: string) => n.padStart(2, '0');
const num = /^\d+$/;

/** A schedule in words for the common shapes; the expression itself otherwise. */
export function scheduleText(text: string | null, zone: string): string {
  if (text === null) return 'not scheduled (run by hand or by a dependency)';
  const t = text.trim();
  const z = ` (${zone})`;
  if (/^every\s/i.test(t)) return t;
  if (NICK[t.toLowerCase()]) return NICK[t.toLowerCase()]! + z;
  const f = t.split(/\s+/);
  if (f.length !== 5) return `cron ${t}${z}`;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  if (mon !== '*') return `cron ${t}${z}`;
  const step = /^\*\/(\d+)$/;
  if (min === '*' && hour === '*' && dom === '*' && dow === '*') return 'every minute';
  if (step.test(min) && hour === '*' && dom === '*' && dow === '*')
    return `every ${step.exec(min)![1]} minutes`;
  if (num.test(min) && hour === '*' && dom === '*' && dow === '*') return `every hour at :${two(min)}`;
  if (num.test(min) && step.test(hour) && dom === '*' && dow === '*')
    return `every ${step.exec(hour)![1]} hours at :${two(min)}${z}`;
  if (!num.test(min) || !num.test(hour)) return `cron ${t}${z}`;
  const at = `at ${two(hour)}:${two(min)}${z}`;
  if (dom === '*' && dow === '*') return `every day ${at}`;
  if (dom === '*' && num.test(dow)) return `every ${DAYS[Number(dow) % 7]} ${at}`;
  if (dom === '*' && dow === '1-5') return `every weekday ${at}`;
  if (num.test(dom) && dow === '*') return `on day ${dom} of every month ${at}`;
  return `cron ${t}${z}`;
}

/**
 * The first instant of a day written YYYY-MM-DD in `zone` (a date field's value); undefined for
 * anything else. One shift by the zone's offset then, which is right except within a DST change.
 */
export function dayStart(text: string, zone: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(guess) || new Date(guess).toISOString().slice(0, 10) !== text) return undefined;
  const p = localParts(guess, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return guess - (asUtc - guess);
}
