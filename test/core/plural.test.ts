import { describe, expect, it } from 'vitest';
import { plural } from '../../src/core/plural.js';

describe('plural', () => {
  it('says 1 day and 2 days, 0 days, and takes an irregular plural', () => {
    expect(plural(1, 'day')).toBe('1 day');
    expect(plural(2, 'day')).toBe('2 days');
    expect(plural(0, 'day')).toBe('0 days');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });
});
