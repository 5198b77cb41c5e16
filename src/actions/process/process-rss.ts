/**
 * The resident memory of a process named by a pid file, from /proc/PID/status (VmRSS): what
 * `ps -o rss` and top's RES show. Linux only; elsewhere the reading fails with a reason.
 */
import { readFile } from 'node:fs/promises';

export type RssReading =
  | { readonly ok: true; readonly pid: number; readonly rssBytes: number }
  | { readonly ok: false; readonly reason: string };

export async function rssFromPidFile(pidFile: string): Promise<RssReading> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (err) {
    return {
      ok: false,
      reason: `cannot read pid file ${pidFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    };
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0)
    return { ok: false, reason: `pid file ${pidFile} holds no pid` };
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { ok: false, reason: `process ${pid} (from ${pidFile}) is not running` };
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  // A zombie or kernel thread has no VmRSS line: nothing resident to speak of.
  return { ok: true, pid, rssBytes: kb ? Number(kb[1]) * 1024 : 0 };
}
