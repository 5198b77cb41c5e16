import { describe, expect, it } from 'vitest';
import { formatLocal, localParts } from '../../src/core/local-time.js';

/** What Intl says the wall-clock parts of `t` are in `zone`. */
function intlParts(t: number, zone: string) {
  const f = new Intl.DateTimeFormat('en-US', {
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
  const get = (type: string) => f.formatToParts(new Date(t)).find((p) => p.type === type)!.value;
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    second: Number(get('second')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
  };
}

describe('local time parts', () => {
  it('are the same in UTC (computed without Intl) as Intl gives, across years and leap days', () => {
    const start = Date.UTC(2023, 11, 31, 23, 59, 59);
    for (let i = 0; i < 400; i++) {
      const t = start + i * 86_399_917; // about a day apart, drifting through every hour
      for (const zone of ['UTC', 'Etc/UTC', 'GMT']) expect(localParts(t, zone)).toEqual(intlParts(t, 'UTC'));
    }
    expect(formatLocal(Date.UTC(2024, 1, 29, 2, 5), 'UTC')).toBe('2024-02-29 02:05');
  });

  it('follow the zone elsewhere, daylight saving time included', () => {
    const summer = Date.UTC(2026, 6, 1, 12, 0);
    expect(localParts(summer, 'Europe/Berlin')).toEqual(intlParts(summer, 'Europe/Berlin'));
    expect(formatLocal(summer, 'Europe/Berlin')).toBe('2026-07-01 14:00');
  });
});
