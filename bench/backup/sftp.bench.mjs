#!/usr/bin/env node
/**
 * SFTP copies against the tools an operator would otherwise use, in the same run, on the same
 * loopback sshd (OpenSSH, internal-sftp) and the same disk:
 *   upload of a big archive: caretaker's SftpTarget.upload (temp name, 64 KiB × 32 requests in
 *   flight, fsync, posix-rename) vs `scp` and `sftp -b` of the same file;
 *   download of it: SftpTarget.get (what verify and restore read) vs `scp` from the server.
 * Rounds are interleaved (ours, scp, sftp, …) so a change in the machine's load hits all alike;
 * medians. Usage: npm run build && node bench/backup/sftp.bench.mjs [--quick] [--size MB] [--reps N].
 * Needs root and /usr/sbin/sshd (apt-get install openssh-server).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { makeBigFile } from './make-data.mjs';
import { startSshd } from '../support/loopback-sshd.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { SftpTarget } = await import(join(root, 'dist', 'backup', 'sftp-target.js'));

if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/sshd')) {
  console.log('skipped: needs root and /usr/sbin/sshd (apt-get install openssh-server)');
  process.exit(0);
}
const quick = process.argv.includes('--quick');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SIZE = arg('--size', quick ? 128 : 1024) * 1024 * 1024;
const reps = arg('--reps', quick ? 1 : 3);
const work = join(root, 'bench', '.work', 'sftp');
mkdirSync(work, { recursive: true });
const big = join(work, `big-${SIZE}.bin`);
makeBigFile(big, SIZE);
const remote = join(work, 'remote');
rmSync(remote, { recursive: true, force: true });
mkdirSync(remote, { recursive: true });
const s = await startSshd(join(work, 'sshd'));
process.on('exit', () => s.stop());
const load = () =>
  execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
const startLoad = load();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
const target = () => new SftpTarget({ to: s.url(remote), key_file: s.userKey, known_hosts: s.knownHosts });
const scp = (from, to) => execFileSync('scp', ['-q', '-P', String(s.port), ...s.sshOptions, from, to]);
const at = (p) => `${s.user}@127.0.0.1:${p}`;

const t = { ours: [], scp: [], sftp: [], get: [], scpGet: [] };
const batch = join(work, 'batch');
writeFileSync(batch, `put ${big} ${remote}/sftp.bin\n`);
for (let i = 0; i < reps; i++) {
  // Connection set-up is counted for every client alike (scp and sftp pay theirs in the process).
  t.ours.push(
    await timed(async () => {
      const c = target();
      await c.upload('ours.bin', createReadStream(big, { highWaterMark: 1024 * 1024 }));
      c.close();
    }),
  );
  t.scp.push(await timed(async () => scp(big, at(`${remote}/scp.bin`))));
  t.sftp.push(
    await timed(async () =>
      execFileSync('sftp', ['-q', '-P', String(s.port), ...s.sshOptions, '-b', batch, `${s.user}@127.0.0.1`]),
    ),
  );
  t.get.push(
    await timed(async () => {
      const c = target();
      await pipeline(await c.get('ours.bin'), createWriteStream(join(work, 'got.bin')));
      c.close();
    }),
  );
  t.scpGet.push(await timed(async () => scp(at(`${remote}/scp.bin`), join(work, 'got-scp.bin'))));
  for (const f of ['ours.bin', 'scp.bin', 'sftp.bin']) rmSync(join(remote, f), { force: true });
  rmSync(join(work, 'got.bin'), { force: true });
  rmSync(join(work, 'got-scp.bin'), { force: true });
}

const mb = SIZE / 1024 / 1024;
const secs = (ms) => `${(ms / 1000).toFixed(2)} s (${(mb / (ms / 1000)).toFixed(0)} MiB/s)`;
const row = (what, ours, theirs, tool, goal) => {
  const ratio = ours / theirs;
  return `| ${what} | ${secs(ours)} | ${tool} ${secs(theirs)} | ${ratio.toFixed(2)}× | ${goal ? `≤ ${goal}× ${ratio <= goal ? '✅' : '❌'}` : '—'} |`;
};
console.log(
  [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, nproc ${availableParallelism()}`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GB (${(freemem() / 2 ** 30).toFixed(1)} GB free)`,
    `- Node ${process.version}; ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}; ssh2 cipher aes128-gcm, scp/sftp their default (chacha20-poly1305)`,
    `- load average: ${startLoad} at start, ${load()} at the end (the machine is shared)`,
    `- ${mb} MiB file, ${reps} interleaved rounds, medians; sshd and clients on loopback`,
    '',
    '| | caretaker | tool | ratio | goal |',
    '|---|---|---|---|---|',
    row('upload', median(t.ours), median(t.scp), '`scp`', 1.1),
    row('upload', median(t.ours), median(t.sftp), '`sftp -b`', 1.1),
    row('download (verify/restore read)', median(t.get), median(t.scpGet), '`scp` from', 0),
    '',
    `rounds (s): ours ${t.ours.map((x) => (x / 1000).toFixed(2)).join(' ')}; scp ${t.scp.map((x) => (x / 1000).toFixed(2)).join(' ')}; sftp ${t.sftp.map((x) => (x / 1000).toFixed(2)).join(' ')}`,
  ].join('\n'),
);
s.stop();
