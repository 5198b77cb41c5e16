#!/usr/bin/env node
/**
 * Peak memory (max RSS, from /usr/bin/time -v) of the CLI on the copy paths with a big archive:
 * a backup with an S3 copy (plain, age-encrypted), `verify-backups` of the copy with a drill, and
 * `backup restore s3://…`. Archives of incompressible data stream through: RSS should stay
 * near the multipart budget (4 parts × 16 MiB) plus Node's own, whatever the archive's size.
 * The S3 server is s3rver in a child process on loopback (no real S3 server runs here); its
 * memory is not counted. The `no dest` lines are backups without a local `dest` (issue 16): the
 * archive streams into the upload as it is written (`compression: none`, so the archive really is
 * --size MB), and nothing of its size is written on this host.
 * Usage: npm run build && node bench/backup/copy-rss.bench.mjs [--size MB] [--nodest-only]
 */
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBigFile } from './make-data.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const i = process.argv.indexOf('--size');
const MB = i > 0 ? Number(process.argv[i + 1]) : 1024;
const nodestOnly = process.argv.includes('--nodest-only');
const work = join(root, 'bench', '.work', 'copy-rss');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'data'), { recursive: true });
mkdirSync(join(work, 's3'));
makeBigFile(join(work, 'data', 'big.bin'), MB * 1024 * 1024);
mkdirSync(join(work, 'tiny'));
writeFileSync(join(work, 'tiny', 'a.txt'), 'a\n');
const PORT = 46_000 + Math.floor(Math.random() * 1000);
const server = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import S3rver from ${JSON.stringify(join(root, 'node_modules/s3rver/lib/s3rver.js'))};
     await new S3rver({ address: '127.0.0.1', port: ${PORT}, silent: true, directory: ${JSON.stringify(join(work, 's3'))},
       configureBuckets: [{ name: 'bkt' }] }).run(); console.log('up');`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.on('exit', () => server.kill());
await new Promise((ok) => server.stdout.once('data', ok));

execFileSync('age-keygen', ['-o', join(work, 'key.txt')], { stdio: 'ignore' });
const pub = execFileSync('age-keygen', ['-y', join(work, 'key.txt')], { encoding: 'utf8' }).trim();
const copy = (to, extra = '') =>
  `{ to: '${to}', endpoint: 'http://127.0.0.1:${PORT}', path_style: true, access_key_env: K, secret_key_env: S${extra} }`;
writeFileSync(
  join(work, 'caretaker.yaml'),
  `version: 1\nstate_dir: .caretaker\ntasks:\n` +
    `  plain:\n    action: backup\n    with: { paths: [data], dest: backups, compression: 1, copies: [${copy('s3://bkt/plain')}] }\n` +
    `  enc:\n    action: backup\n    with: { paths: [data], dest: backups, compression: 1, copies: [${copy('s3://bkt/enc')}], encrypt: { recipients: ['${pub}'] } }\n` +
    `  tiny:\n    action: backup\n    with: { paths: [tiny], compression: none, copies: [${copy('s3://bkt/tiny')}] }\n` +
    `  nodest:\n    action: backup\n    with: { paths: [data], compression: none, copies: [${copy('s3://bkt/nodest')}] }\n` +
    `  nodest-enc:\n    action: backup\n    with: { paths: [data], compression: none, copies: [${copy('s3://bkt/nodest-enc')}], encrypt: { recipients: ['${pub}'] } }\n` +
    `  drill:\n    action: verify-backups\n    with: { dest: backups, task: enc, drill_dir: drills, copy: ${copy('s3://bkt/enc', ', identity_file: key.txt, drill: true')} }\n`,
);
const env = { ...process.env, K: 'S3RVER', S: 'S3RVER', CARETAKER_CONFIG: '' };

async function measure(what, args) {
  const child = spawn('/usr/bin/time', ['-v', process.execPath, join(root, 'dist/cli/main.js'), ...args], {
    cwd: work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((ok) => child.on('close', ok));
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? NaN) / 1024;
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(err)?.[1];
  if (code !== 0) console.error(`${what}: exit ${code}\n${out}${err}`);
  console.log(`| ${what} | ${rss.toFixed(0)} MiB | ${wall} |`);
}

console.log(
  `- ${cpus()[0]?.model}, nproc ${availableParallelism()}, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, Node ${process.version}, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`,
);
console.log(`- archive: ${MB} MiB of incompressible data, gzip level 1 (no dest: compression none)\n`);
console.log('| what | max RSS | wall |\n| --- | ---: | ---: |');
await measure('`--version` (Node + CLI baseline)', ['--version']);
await measure('no dest: one small file to an S3 copy (the floor: CLI, store, SDK)', [
  'run-task',
  'tiny',
  '--wait',
]);
await measure('no dest: backup streamed to an S3 copy', ['run-task', 'nodest', '--wait']);
await measure('no dest: backup streamed age-encrypted to an S3 copy', ['run-task', 'nodest-enc', '--wait']);
if (nodestOnly) {
  rmSync(work, { recursive: true, force: true });
  server.kill();
  process.exit(0);
}
await measure('backup + plain S3 copy', ['run-task', 'plain', '--wait']);
await measure('backup + age-encrypted S3 copy', ['run-task', 'enc', '--wait']);
await measure('verify-backups of the encrypted copy with copy.drill', ['run-task', 'drill', '--wait']);
const name = spawnSync('ls', [join(work, 's3', 'bkt', 'plain')], { encoding: 'utf8' })
  .stdout.split('\n')
  .find((f) => /\.tar\.gz\._S3rver_object$/.test(f))
  ?.replace('._S3rver_object', '');
await measure('backup restore s3://…/NAME --to DIR (plain copy)', [
  'backup',
  'restore',
  `s3://bkt/plain/${name}`,
  '--to',
  'out',
]);
rmSync(work, { recursive: true, force: true });
server.kill();
process.exit(0); // the server's stdout pipe would keep the loop alive
