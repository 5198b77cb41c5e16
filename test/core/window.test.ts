import { describe, expect, it } from 'vitest';
import { isInside, nextInside, parseDays, parseHours, type Window } from '../../src/core/window.js';

const at = (iso: string) => Date.parse(iso);
const win = (hours: string | null, days: string | null, timezone = 'UTC'): Window => ({
  hours: hours === null ? null : parseHours(hours),
  days: days === null ? null : parseDays(days),
  timezone,
});
const push = (w: Window, iso: string) => new Date(nextInside(at(iso), w)).toISOString();

describe('maintenance windows', () => {
  it.each([
    // [hours, days, zone, from, expected start]
    ['1-5', null, 'UTC', '2026-11-24T03:10:00Z', '2026-11-24T03:10:00.000Z'], // already inside: unchanged
    ['1-5', null, 'UTC', '2026-11-24T06:00:00Z', '2026-11-25T01:00:00.000Z'], // after it: next night
    ['22-2', null, 'UTC', '2026-11-24T21:15:00Z', '2026-11-24T22:00:00.000Z'], // a range across midnight
    ['22-2', null, 'UTC', '2026-11-25T01:59:00Z', '2026-11-25T01:59:00.000Z'],
    ['22-2', null, 'UTC', '2026-11-25T03:00:00Z', '2026-11-25T22:00:00.000Z'],
    ['1-5,22-23', null, 'UTC', '2026-11-24T12:00:00Z', '2026-11-24T22:00:00.000Z'],
    [null, 'mon-fri', 'UTC', '2026-11-28T10:00:00Z', '2026-11-30T00:00:00.000Z'], // Saturday → Monday 00:00
    ['2-3', 'mon-fri', 'UTC', '2026-11-27T04:00:00Z', '2026-11-30T02:00:00.000Z'], // Friday after the window → Monday 02:00
    [null, 'sat,sun', 'UTC', '2026-11-24T10:00:00Z', '2026-11-28T00:00:00.000Z'],
    [null, 'fri-mon', 'UTC', '2026-11-25T10:00:00Z', '2026-11-27T00:00:00.000Z'], // wrapping weekday range
    ['2-3', null, 'Europe/Berlin', '2026-11-24T12:00:00Z', '2026-11-25T01:00:00.000Z'], // 02:00 CET
    ['2-3', null, 'Asia/Kolkata', '2026-11-24T12:00:00Z', '2026-11-24T20:30:00.000Z'], // a half-hour offset zone
    ['2', null, 'Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-30T00:00:00.000Z'], // 02:xx does not exist on 03-29
  ])('hours %s days %s in %s from %s', (hours, days, zone, from, expected) => {
    const w = win(hours, days, zone);
    expect(push(w, from)).toBe(expected);
    expect(isInside(at(expected), w)).toBe(true);
  });

  it('rejects what is not an hour or a weekday, with the expected form', () => {
    expect(() => parseHours('1-25')).toThrow(/"25" is not an hour; expected 0-23/);
    expect(() => parseHours('night')).toThrow(/"night" is not an hour/);
    expect(() => parseDays('mon-fry')).toThrow(/"fry" is not a weekday; expected mon, tue/);
    expect(() => parseDays('mon,,fri')).toThrow(/empty item/);
    expect(parseDays('Monday-Wednesday')).toEqual([false, true, true, true, false, false, false]);
  });
});
