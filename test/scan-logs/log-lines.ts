/** Generated log text for the scan-logs tests: deterministic, with the awkward cases grep handles. */
import { appendFileSync, writeFileSync } from 'node:fs';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

const LEVELS = [
  'INFO',
  'INFO',
  'INFO',
  'DEBUG',
  'WARN',
  'WARNING',
  'ERROR',
  'error',
  'CRITICAL',
  'FATAL',
  'Warn',
];
const MESSAGES = [
  'GET /api/users/%d 200 %dms',
  'Connection refused to db-%d:5432',
  'Connection to cache-%d failed after %dms',
  'Connection established to %d',
  'Disk /var/data full (%d%%)',
  'API key invalid for tenant %d',
  'OOM error in worker %d',
  'Memory usage %d MB, no error',
  'Configuration key db.url missing',
  'naïve café crème %d — ünïcödé',
  'tab\there %d\tand trailing spaces   ',
  'ERRORS are not errors %d',
  'progress 10%\r50%\r100% Disk\rfull, Connection %d\rrefused',
  '',
];

/** One line (without its newline). Some lines end in \r, some are empty, some are long. */
export function logLine(r: () => number, t: number): string {
  const m = MESSAGES[Math.floor(r() * MESSAGES.length)]!.replace(/%d/g, () =>
    String(Math.floor(r() * 10000)),
  );
  const level = LEVELS[Math.floor(r() * LEVELS.length)]!;
  const x = r();
  if (x < 0.03) return '';
  if (x < 0.06) return `  at stack.frame (file.js:${Math.floor(r() * 100)}) ${m}`;
  let line = `${new Date(t).toISOString()} ${level} [svc-${Math.floor(r() * 8)}] ${m}`;
  if (x < 0.08) line += '\r';
  if (x > 0.995) line += ` ${'x'.repeat(5000 + Math.floor(r() * 5000))} ERROR tail`;
  return line;
}

export function logText(seed: number, lines: number, startMs = Date.UTC(2026, 10, 24)): string {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(logLine(r, startMs + i * 1000));
  return `${out.join('\n')}\n`;
}

export function writeLog(path: string, seed: number, lines: number, startMs?: number): string {
  const text = logText(seed, lines, startMs);
  writeFileSync(path, text);
  return text;
}

export function appendLog(path: string, text: string): void {
  appendFileSync(path, text);
}
