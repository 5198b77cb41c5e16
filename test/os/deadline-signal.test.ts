/**
 * deadlineSignal: the parent's abort or the deadline, whichever comes first, as a TimeoutError
 * like AbortSignal.timeout's; done() disarms it. (It replaces AbortSignal.any with a timeout
 * signal, which Node may garbage-collect before it fires: nodejs/node#57736.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadlineSignal } from '../../src/os/deadline-signal.js';

afterEach(() => vi.useRealTimers());

describe('deadlineSignal', () => {
  it('aborts with a TimeoutError at the deadline, not before', () => {
    vi.useFakeTimers();
    const d = deadlineSignal(new AbortController().signal, 1_000);
    vi.advanceTimersByTime(999);
    expect(d.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('follows the parent’s abort and its reason, also when the parent was aborted already', () => {
    const parent = new AbortController();
    const d = deadlineSignal(parent.signal, 60_000);
    parent.abort(new Error('stopping'));
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toBe('stopping');
    d.done();
    const late = deadlineSignal(parent.signal, 60_000);
    expect((late.signal.reason as Error).message).toBe('stopping');
    late.done();
  });

  it('done() disarms the deadline and lets go of the parent', () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const d = deadlineSignal(parent.signal, 1_000);
    d.done();
    vi.advanceTimersByTime(5_000);
    parent.abort();
    expect(d.signal.aborted).toBe(false);
  });
});
