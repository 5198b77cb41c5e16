/**
 * pause TASK [--reason TEXT] and resume TASK: through the running daemon when there is one (it
 * holds the task back at once), else in the store directly (a daemon reads pauses when it starts
 * and reloads; the hosts of a fleet every second). Who: this Unix user.
 */
import type { PauseRecord } from '../../caretaker.js';
import { currentUser } from '../../caretaker-tools.js';
import { locateDaemon, openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { oneLine, relative } from '../format.js';
import { auditedByCli } from './access.js';

interface PauseAnswer {
  readonly paused: boolean;
  readonly record: PauseRecord;
}

interface ResumeAnswer {
  readonly resumed: boolean;
  readonly record: PauseRecord | null;
}

/** `by alice 3m ago: disk swap` */
export function pauseLine(p: PauseRecord, now: number): string {
  return `by ${p.by} ${relative(p.at, now)}${p.reason ? `: ${oneLine(p.reason, 100)}` : ''}`;
}

async function act<T>(
  opts: GlobalOptions,
  viaDaemon: (call: <R>(path: string, body?: unknown) => Promise<R>) => Promise<T>,
  here: (c: Awaited<ReturnType<typeof openCaretaker>>) => Promise<T>,
): Promise<{ answer: T; daemonPid: number | null }> {
  const { daemon } = await locateDaemon(opts);
  if (daemon)
    return {
      answer: await viaDaemon((path, body) => daemon.call('POST', path, body)),
      daemonPid: daemon.info.pid,
    };
  const caretaker = await openCaretaker(opts);
  try {
    return { answer: await here(caretaker), daemonPid: null };
  } finally {
    await caretaker.close();
  }
}

export async function pauseCommand(
  id: string,
  opts: GlobalOptions & { reason?: string },
  io: Io,
): Promise<number> {
  const by = currentUser();
  const reason = opts.reason ?? null;
  const { answer, daemonPid } = await act<PauseAnswer>(
    opts,
    (call) => call(`/v1/tasks/${encodeURIComponent(id)}/pause`, { reason, by }),
    // Not through a daemon (which audits its own): the audit row is this command's.
    (c) => auditedByCli(c, { action: 'pause', target: id }, () => c.pauseTask(id, { reason, by })),
  );
  if (opts.json) {
    printJson(io, { ...answer.record, paused: true, changed: answer.paused });
    return 0;
  }
  const now = Date.now();
  if (!answer.paused) {
    io.out(`${id} is already paused (${pauseLine(answer.record, now)}); nothing changed`);
    return 0;
  }
  io.out(
    `paused ${id} (${pauseLine(answer.record, now)}): its scheduled runs are recorded as skipped until caretaker resume ${id}`,
  );
  io.out(
    daemonPid === null
      ? 'no daemon is running here: a daemon started later keeps the task paused'
      : `the daemon (pid ${daemonPid}) holds it back now; a run already going is not stopped`,
  );
  return 0;
}

export async function resumeCommand(id: string, opts: GlobalOptions, io: Io): Promise<number> {
  const { answer } = await act<ResumeAnswer>(
    opts,
    (call) => call(`/v1/tasks/${encodeURIComponent(id)}/resume`),
    (c) => auditedByCli(c, { action: 'resume', target: id }, () => c.resumeTask(id)),
  );
  if (opts.json) {
    printJson(io, {
      task: id,
      changed: answer.resumed,
      paused: false,
      wasPaused: answer.record,
    });
    return 0;
  }
  if (!answer.record) {
    io.out(`${id} is not paused; nothing changed`);
    return 0;
  }
  const now = Date.now();
  io.out(
    `resumed ${id} (it was paused ${pauseLine(answer.record, now)}): its next scheduled run goes as planned; the slots it missed are not made up`,
  );
  return 0;
}
