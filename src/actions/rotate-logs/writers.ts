/**
 * Which processes still have a file open for writing? After a log was moved aside, its writer
 * keeps writing into it until it reopens (on a signal, a postrotate reload...). Compressing it
 * before then would lose whatever it writes later — logrotate's delaycompress exists for that. We
 * look instead: /proc/PID/fd leads to the file (same device and inode), /proc/PID/fdinfo says
 * whether it is open for writing. Processes of other users are invisible without privileges; the
 * compression itself also checks that the file stopped growing.
 *
 * One scan of /proc answers for every file: a stage that compresses twenty logs scans once. The
 * scan uses synchronous calls on purpose: /proc answers from memory in microseconds, and
 * thousands of async calls would queue in libuv's small thread pool ahead of the compression's
 * own reads and writes.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

const O_ACCMODE = 0o3;

export interface Writer {
  readonly pid: number;
  readonly command: string;
}

/** Every regular file open for writing by another process: "dev:ino" -> its writers. */
type WriterMap = Map<string, Writer[]>;

let last: { startedAt: number; map: WriterMap } | undefined;

/**
 * Processes holding `path` open for writing (none when /proc is not there). A scan started at or
 * after `since` (ms, Date.now() clock) is reused; an older one is not trusted.
 */
export async function writersOf(path: string, since: number): Promise<Writer[]> {
  let target: { dev: number; ino: number };
  try {
    target = await stat(path);
  } catch {
    return [];
  }
  if (!last || last.startedAt < since) {
    const startedAt = Date.now();
    last = { startedAt, map: scanWriters() };
  }
  return last.map.get(`${target.dev}:${target.ino}`) ?? [];
}

function scanWriters(): WriterMap {
  const found: WriterMap = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return found;
  }
  const self = String(process.pid);
  for (const pid of pids) {
    if (pid === self) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    let command: string | undefined;
    for (const fd of fds) {
      // Compared by inode: once the log was replaced by a new file, the writer's descriptor
      // reads "app.log (deleted)" in /proc although the file lives on as app.log.1.
      let key: string;
      try {
        if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/')) continue; // sockets, pipes
        const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
        const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8);
        if ((flags & O_ACCMODE) === 0) continue; // read-only: a tail -f, a log scanner
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (!st.isFile()) continue;
        key = `${st.dev}:${st.ino}`;
      } catch {
        continue;
      }
      try {
        command ??= readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        command = '?';
      }
      const list = found.get(key) ?? [];
      if (!list.some((w) => w.pid === Number(pid))) list.push({ pid: Number(pid), command });
      found.set(key, list);
    }
  }
  return found;
}
