#!/usr/bin/env node
/**
 * Off-host copies against the tools an operator would otherwise use, in the same run:
 *   upload of a big archive to an S3 server (caretaker's streamed multipart) vs `rclone copy` to
 *   the same server, and a backup with an S3 copy, age-encrypted vs not.
 * The S3 server is s3rver in a child process on loopback (no real S3 server runs here); both
 * clients pay its cost alike. Usage: npm run build && node bench/backup/offsite.bench.mjs
 * [--quick] [--size MB] [--reps N] [--tree-only]. Needs rclone and age-keygen (apt-get install rclone age).
 * --tree-only: only the backup of the tree (plain vs encrypted) and the verify of its copies vs
 * downloading them, not the big upload nor the cipher alone.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpus, freemem, totalmem, availableParallelism } from 'node:os';
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBigFile, makeTree } from './make-data.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(join(root, 'dist', p));
const { writeArchive } = await dist('backup/write-archive.js');
const { readSidecar } = await dist('backup/manifest.js');
const { shipArchive } = await dist('backup/offsite.js');
const { S3Target } = await dist('backup/s3-target.js');
const { listRemote } = await dist('backup/offsite.js');
const { verifyRemote } = await dist('backup/offsite-verify.js');
const { parseIdentities } = await dist('backup/age-stream.js');

const quick = process.argv.includes('--quick');
const treeOnly = process.argv.includes('--tree-only');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SIZE = arg('--size', quick ? 128 : 1024) * 1024 * 1024;
rmSync(join(root, 'bench', '.work', 'offsite', 'big.bin.complete'), { force: true }); // the size may differ
const reps = arg('--reps', quick ? 1 : 3);
const FILES = quick ? 10_000 : 100_000;
const work = join(root, 'bench', '.work', 'offsite');
rmSync(join(work, 's3'), { recursive: true, force: true });
mkdirSync(join(work, 's3'), { recursive: true });
const PORT = 45_000 + Math.floor(Math.random() * 1000);
const endpoint = `http://127.0.0.1:${PORT}`;

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
await new Promise((ok) => server.stdout.once('data', ok));

process.env.BENCH_S3_KEY = 'S3RVER';
process.env.BENCH_S3_SECRET = 'S3RVER';
const spec = (to) => ({
  to,
  endpoint,
  path_style: true,
  access_key_env: 'BENCH_S3_KEY',
  secret_key_env: 'BENCH_S3_SECRET',
});

function machine() {
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .slice(0, 3)
    .join(' ');
  return [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, nproc ${availableParallelism()}`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GB (${(freemem() / 2 ** 30).toFixed(1)} GB free)`,
    `- Node ${process.version}; ${spawnSync('rclone', ['version'], { encoding: 'utf8' }).stdout.split('\n')[0]}; s3rver 3.7 in a child process`,
    `- load average at start: ${load} (the machine is shared)`,
  ].join('\n');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const big = join(work, 'big.bin');
if (!treeOnly) makeBigFile(big, SIZE);
const tree = join(work, 'tree');
makeTree(tree, FILES);
const key = join(work, 'key.txt');
rmSync(key, { force: true });
execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();

const rcloneEnv = {
  ...process.env,
  RCLONE_CONFIG_BENCH_TYPE: 's3',
  RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
  RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
  RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'S3RVER',
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'S3RVER',
  RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
};
delete rcloneEnv.AWS_CA_BUNDLE;
process.on('exit', () => server.kill());
process.on('unhandledRejection', (err) => {
  console.error(err);
  process.exit(1);
});

const rows = [];
function row(what, ours, theirs, tool, goal) {
  const ratio = ours / theirs;
  rows.push(
    `| ${what} | ${(ours / 1000).toFixed(2)} s | ${tool} ${(theirs / 1000).toFixed(2)} s | ${ratio.toFixed(2)}× | ≤ ${goal}× ${ratio <= goal ? '✅' : '❌'} |`,
  );
}

// 1. Upload of one big file: caretaker's S3Target.upload (16 MiB parts, 4 in flight) vs rclone with the same.
const ours = [];
const theirs = [];
for (let i = 0; i < (treeOnly ? 0 : reps); i++) {
  const t = new S3Target(spec('s3://bkt/ours'));
  ours.push(await timed(() => t.upload(`big-${i}.bin`, createReadStream(big, { highWaterMark: 1 << 20 }))));
  t.close();
  theirs.push(
    await timed(async () => {
      const r = spawnSync(
        'rclone',
        [
          'copyto',
          big,
          `bench:bkt/rclone/big-${i}.bin`,
          '--s3-chunk-size',
          '16M',
          '--s3-upload-concurrency',
          '4',
        ],
        // AWS_CA_BUNDLE (set on some machines) makes rclone refuse a plain-http endpoint.
        { encoding: 'utf8', env: rcloneEnv, timeout: 600_000 },
      );
      if (r.status !== 0) throw new Error(`rclone failed: ${r.stderr}`);
    }),
  );
}
if (!treeOnly)
  row(`upload of a ${SIZE / 2 ** 20} MiB file to S3`, median(ours), median(theirs), 'rclone copyto', 1.1);

// 2. A backup of the tree with one S3 copy, plain vs age-encrypted (same run, interleaved).
const plain = [];
const enc = [];
const backupOnce = async (label, recipients) => {
  const dest = join(work, 'dest', label);
  rmSync(dest, { recursive: true, force: true });
  return timed(async () => {
    const r = await writeArchive({
      task: label,
      host: 'bench',
      version: 'bench',
      dest,
      time: Date.now(),
      roots: [tree],
      isExcluded: () => false,
      protectedDirs: [],
      sqlite: [],
      postgres: [],
      compression: 6,
      parallel: Math.min(availableParallelism(), 4),
      verify: true,
      signal: new AbortController().signal,
      runTool: () => Promise.reject(new Error('unused')),
    });
    const t = new S3Target(spec(`s3://bkt/${label}`));
    await shipArchive(t, { archivePath: r.path, sidecar: readSidecar(r.path), recipients });
    t.close();
  });
};
for (let i = 0; i < reps; i++) {
  plain.push(await backupOnce('plain', undefined));
  enc.push(await backupOnce('enc', [recipient]));
}
const treeBytes = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]);
row(
  `backup of ${FILES.toLocaleString('en')} files (${(treeBytes / 2 ** 20).toFixed(0)} MiB) + S3 copy, age-encrypted`,
  median(enc),
  median(plain),
  'unencrypted',
  1.2,
);

// 2b. Verify of the remote copies (streamed: hashed, decrypted, every entry checked) vs
// downloading the same object with rclone to a file; interleaved.
const identities = parseIdentities(execFileSync('cat', [key], { encoding: 'utf8' }), key);
for (const [label, ids] of [
  ['plain', undefined],
  ['enc', identities],
]) {
  const t = new S3Target(spec(`s3://bkt/${label}`));
  const [a] = await listRemote(t);
  const v = [];
  const d = [];
  for (let i = 0; i < reps; i++) {
    v.push(
      await timed(async () => {
        const r = await verifyRemote(t, a, ids);
        if (!r.ok || !r.lookedInside) throw new Error(`verify failed: ${r.problems.join('; ')}`);
      }),
    );
    const out = join(work, 'download.bin');
    d.push(
      await timed(async () => {
        const r = spawnSync('rclone', ['copyto', `bench:bkt/${label}/${a.object}`, out], {
          encoding: 'utf8',
          env: rcloneEnv,
          timeout: 600_000,
        });
        if (r.status !== 0) throw new Error(`rclone failed: ${r.stderr}`);
      }),
    );
    rmSync(out, { force: true });
  }
  t.close();
  row(
    `verify of the ${label === 'enc' ? 'age-encrypted ' : ''}copy of that backup (${(a.size / 2 ** 20).toFixed(0)} MiB)`,
    median(v),
    median(d),
    'rclone download',
    1.2,
  );
}

// 3. The cipher alone: age-encryption (pure JS) vs the age CLI over the big file.
if (!treeOnly) {
  const { encryptStream } = await dist('backup/age-stream.js');
  const { Writable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const js = await timed(async () =>
    pipeline(
      await encryptStream(createReadStream(big, { highWaterMark: 1 << 20 }), [recipient]),
      new Writable({ write: (_c, _e, cb) => cb() }),
    ),
  );
  const cliAge = await timed(async () => execFileSync('age', ['-r', recipient, '-o', '/dev/null', big]));
  rows.push(
    `| age encryption of ${SIZE / 2 ** 20} MiB (information) | ${(js / 1000).toFixed(2)} s (${(SIZE / 2 ** 20 / (js / 1000)).toFixed(0)} MiB/s) | age CLI ${(cliAge / 1000).toFixed(2)} s | ${(js / cliAge).toFixed(2)}× | — |`,
  );
  // Decryption: the payload with node:crypto (the header by the package) vs the age CLI.
  const { decryptStream } = await dist('backup/age-stream.js');
  const sealed = join(work, 'big.bin.age');
  execFileSync('age', ['-r', recipient, '-o', sealed, big]);
  const ids = parseIdentities(execFileSync('cat', [key], { encoding: 'utf8' }), key);
  const dec = await timed(async () =>
    pipeline(
      await decryptStream(createReadStream(sealed, { highWaterMark: 1 << 20 }), ids, sealed),
      new Writable({ write: (_c, _e, cb) => cb() }),
    ),
  );
  const cliDec = await timed(async () => execFileSync('age', ['-d', '-i', key, '-o', '/dev/null', sealed]));
  rmSync(sealed, { force: true });
  rows.push(
    `| age decryption of ${SIZE / 2 ** 20} MiB (information) | ${(dec / 1000).toFixed(2)} s (${(SIZE / 2 ** 20 / (dec / 1000)).toFixed(0)} MiB/s) | age CLI ${(cliDec / 1000).toFixed(2)} s | ${(dec / cliDec).toFixed(2)}× | — |`,
  );
}

server.kill();
console.log(
  `${machine()}\n- repetitions: ${reps} (medians)${treeOnly ? '' : `; archive size ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB`}\n`,
);
console.log('| what | caretaker | baseline | ratio | goal |\n| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
