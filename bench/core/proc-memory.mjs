// A process's memory from /proc/PID/status, in kB: RssAnon is its private memory (heap, stacks,
// malloc arenas), RssFile the file-backed pages it maps (the node binary, shared libraries).
import { readFileSync } from 'node:fs';

export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}
