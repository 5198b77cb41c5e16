/**
 * A log writer for the rotation tests, run as a real child process.
 * Usage: node log-writer.mjs LOG PIDFILE MODE [LINES] [BURST]
 *   MODE reopen  O_APPEND, reopens its log on SIGHUP (a well-behaved daemon)
 *        hold    O_APPEND, never reopens (needs copytruncate)
 *        offset  no O_APPEND, never reopens: keeps its file offset (leaves NUL holes)
 * With LINES it writes that many lines, BURST lines per millisecond, prints the count and exits;
 * without, it writes the number of lines read from each stdin line and answers "ok N".
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [log, pidfile, mode, linesArg, burstArg] = process.argv.slice(2);
const flags = mode === 'offset' ? 'w' : 'a';
let fd = openSync(log, flags);
let written = 0;
process.on('SIGHUP', () => {
  if (mode !== 'reopen') return;
  const next = openSync(log, 'a');
  closeSync(fd);
  fd = next;
});
const line = () => {
  written++;
  writeSync(fd, `writer ${process.pid} line ${written}\n`);
};
writeFileSync(pidfile, `${process.pid}\n`);

if (linesArg !== undefined) {
  const total = Number(linesArg);
  const burst = Number(burstArg ?? 1);
  const tick = () => {
    for (let i = 0; i < burst && written < total; i++) line();
    if (written < total) setTimeout(tick, 1);
    else {
      process.stdout.write(`${written}\n`);
      closeSync(fd);
    }
  };
  process.stdout.write('started\n');
  tick();
} else {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    const n = Number(l);
    for (let i = 0; i < n; i++) line();
    process.stdout.write(`ok ${written}\n`);
  });
  rl.on('close', () => closeSync(fd));
  process.stdout.write('started\n');
}
