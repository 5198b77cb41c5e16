// The fuzz targets, run from dist/ in a worker thread so that a case that hangs (even in a
// synchronous loop) can be stopped: the test terminates the worker and reports the input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parentPort } from 'node:worker_threads';

const dist = resolve(import.meta.dirname, '..', '..', 'dist');
const load = await import(join(dist, 'config', 'load.js'));
const { loadedBuiltinRegistry: builtinRegistry } = await import(join(dist, 'actions', 'builtin-loaded.js'));
const { importCrontabTexts } = await import(join(dist, 'config', 'import', 'crontab-files.js'));
const { importLogrotate } = await import(join(dist, 'config', 'import', 'logrotate.js'));
const { readArchive, ArchiveReadError } = await import(join(dist, 'backup', 'archive-reader.js'));
const { checkArchive } = await import(join(dist, 'backup', 'verify-archive.js'));

const registry = builtinRegistry();
const scratch = mkdtempSync(join(tmpdir(), 'ct-fuzz-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const CONF = '/fuzz/logrotate.conf';
const missing = (p) =>
  Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });

const targets = {
  config: (text) => load.parseConfigText(text, join(scratch, 'caretaker.yaml'), { registry }),
  crontab: (text) => {
    for (const format of [undefined, 'user', 'system'])
      importCrontabTexts([{ text, source: 'fuzz.cron', inDir: false }], 'fuzz.cron', {
        format,
        users: new Set(['root', 'www-data']),
        isCommand: () => false,
      });
  },
  logrotate: (text) =>
    importLogrotate([CONF], {
      readText: (p) => {
        if (p === CONF) return text;
        throw missing(p);
      },
      isDirectory: (p) => {
        if (p === CONF) return false;
        throw missing(p);
      },
      list: () => [],
      notRegular: () => undefined,
    }),
  archive: async (bytes) => {
    const file = join(scratch, 'fuzz.tar.gz');
    writeFileSync(file, bytes);
    // A damaged archive is a verdict of the check, never an exception out of it.
    await checkArchive(file, {});
    try {
      await readArchive(file, { entry: () => undefined, data: () => undefined, entryEnd: () => undefined });
    } catch (err) {
      if (!(err instanceof ArchiveReadError)) throw err;
    }
  },
};

parentPort.on('message', async ({ id, target, input }) => {
  try {
    await targets[target](input);
    parentPort.postMessage({ id, kind: 'ok' });
  } catch (err) {
    const expected = err && (err.exitCode === 2 || (target === 'archive' && err instanceof ArchiveReadError));
    parentPort.postMessage({
      id,
      kind: expected ? 'expected' : 'bad',
      detail: expected ? undefined : String(err?.stack ?? err),
    });
  }
});
parentPort.postMessage({ ready: true });
