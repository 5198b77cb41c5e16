/**
 * A name for an imported cron job that says what it does: the program and its first operand
 * (`run-parts --report /etc/cron.hourly` → `run-parts-cron-hourly`), else its first option
 * (`/usr/bin/backup.sh --full` → `backup-full`). Shell guards in front of the real work —
 * `cd /`, `[ -x … ]`, `test -x …`, `command -v …`, `if`/`then` — are passed over.
 */
import { basename } from 'node:path';
import { slug } from './task-ids.js';

/** Commands that only prepare or guard the one that does the work. */
const GUARDS = new Set([
  '[',
  '[[',
  'test',
  'cd',
  'command',
  'which',
  'type',
  'true',
  ':',
  'fi',
  'done',
  'esac',
]);
/** Words in front of a command that are not the command. */
const PREFIXES = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'exec', 'time']);
/** Wrappers whose options come first, then the real command. */
const WRAPPERS = new Set([
  'nice',
  'ionice',
  'nohup',
  'chronic',
  'flock',
  'timeout',
  'env',
  'sudo',
  'su',
  'sh',
  'bash',
]);

const SIMPLE = /^[\w./+:@-]+$/;

/** The words of each simple command, split at shell operators (quotes are not honoured: names only). */
function segments(command: string): string[][] {
  return command
    .split(/&&|\|\||[;|()&{}`]|\$\(/)
    .map((s) => s.trim().split(/\s+/).filter(Boolean))
    .filter((s) => s.length > 0);
}

function programName(word: string): string {
  return basename(word).replace(/\.(sh|bash|py|pl|rb|php|js)$/, '');
}

function stripWrappers(words: string[]): string[] {
  let w = words;
  for (;;) {
    while (w.length > 0 && (PREFIXES.has(w[0]!) || /^[A-Za-z_]\w*=/.test(w[0]!))) w = w.slice(1);
    if (w.length === 0 || !WRAPPERS.has(basename(w[0]!))) return w;
    const wrapper = basename(w[0]!);
    w = w.slice(1);
    // Options of the wrapper, and one value for those that take one (ionice -c 3, sudo -u www-data).
    while (w.length > 0 && (w[0]!.startsWith('-') || /^\d+[smhd]?$/.test(w[0]!))) {
      const opt = w[0]!;
      w = w.slice(1);
      if (/^-[cnpuUgt]$/.test(opt) && w.length > 0) w = w.slice(1);
    }
    if ((wrapper === 'sh' || wrapper === 'bash') && w.length === 0) return w;
    if (wrapper === 'flock' && w.length > 0) w = w.slice(1); // the lock file
  }
}

/** The descriptive part of a command ('' when none), without the uniqueness suffix. */
export function cronTaskName(command: string): string {
  for (const seg of segments(command)) {
    const words = stripWrappers(seg);
    if (words.length === 0) continue;
    const first = words[0]!;
    if (GUARDS.has(first) || !SIMPLE.test(first) || first.startsWith('-')) continue;
    const program = slug(programName(first));
    if (!program) continue;
    const args = words.slice(1);
    const end = args.findIndex((a) => /^\d*[<>]/.test(a));
    const usable = (end < 0 ? args : args.slice(0, end)).filter(
      (a) => SIMPLE.test(a) && !/^[\d.:+-]+$/.test(a),
    );
    const operand = usable.find((a) => !a.startsWith('-'));
    const option = usable.find((a) => a.startsWith('-'));
    const detail = operand !== undefined ? slug(programName(operand)) : option ? slug(option) : '';
    return detail && detail !== program ? slug(`${program}-${detail}`) : program;
  }
  return '';
}
