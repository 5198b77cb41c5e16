/**
 * Tells a process apart from a later one that reused its pid: the start time the kernel records
 * (/proc/PID/stat, field 22, in clock ticks since boot). Linux only; elsewhere null, and an
 * orphan is then never signalled (caretaker would rather leave it than hit a stranger).
 */
import { readFileSync } from 'node:fs';

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process that started as (pid, startTime) still the one running under that pid? */
export function sameProcess(pid: number, startTime: string | null): boolean {
  return startTime !== null && processStartTime(pid) === startTime;
}

/** Is a process alive (or alive but not ours to signal)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
