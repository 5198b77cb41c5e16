/**
 * `command`: runs a command with the alert as JSON on its standard input (and the essentials in
 * CARETAKER_EVENT, CARETAKER_SUBJECT, CARETAKER_TITLE), in its own process group, killed with
 * the group when it overruns its timeout. A non-zero exit is a failed delivery.
 */
import { formatDuration } from '../../core/duration.js';
import { runInProcessGroup } from '../../os/process-group.js';
import type { Clock } from '../../core/clock.js';
import type { AlertEvent, CommandChannelConfig } from '../types.js';
import { DeliveryError, type Channel } from './channel.js';
import { deadlineSignal } from '../../os/deadline-signal.js';

// Killing a process is about real time, whatever clock drives the notifier.
const timers = new Map<number, NodeJS.Timeout>();
let nextTimer = 1;
const realTime: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(fn, ms) {
    const id = nextTimer++;
    timers.set(
      id,
      setTimeout(() => (timers.delete(id), fn()), ms),
    );
    return { id };
  },
  clearTimer(h) {
    clearTimeout(timers.get(h.id));
    timers.delete(h.id);
  },
};

export function commandChannel(config: CommandChannelConfig): Channel {
  return {
    config,
    async send(ev: AlertEvent, signal: AbortSignal) {
      let output = '';
      const deadline = deadlineSignal(signal, config.timeoutMs);
      const r = await runInProcessGroup({
        command: config.command,
        cwd: config.cwd,
        env: {
          ...process.env,
          ...config.env,
          CARETAKER_EVENT: ev.event,
          CARETAKER_SUBJECT: `${ev.subject.kind}:${ev.subject.id}`,
          CARETAKER_TITLE: ev.title,
          CARETAKER_SEVERITY: ev.severity,
        },
        signal: deadline.signal,
        killGraceMs: 2_000,
        clock: realTime,
        stdin: `${JSON.stringify(ev)}\n`,
        onOutput: (t) => (output = (output + t).slice(-2_000)),
      }).finally(() => deadline.done());
      if (r.spawnError) throw new DeliveryError(r.spawnError, false);
      if (r.aborted) throw new DeliveryError(`did not finish within ${formatDuration(config.timeoutMs)}`);
      if (r.exitCode !== 0) {
        const last = output.trim().split('\n').pop() ?? '';
        throw new DeliveryError(
          `exited with ${r.exitCode ?? r.signal ?? 'a signal'}${last ? `: ${last.slice(0, 200)}` : ''}`,
        );
      }
    },
  };
}
