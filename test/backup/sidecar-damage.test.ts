/**
 * A damaged sidecar (`<archive>.manifest.json`): list, verify and restore read it the same way,
 * and each says clearly which file is wrong — restore refuses before writing anything (exit 2),
 * verify fails — never an internal error. A sidecar only re-indented is not damaged.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as describeArchive } from '../../src/backup/catalog.js';
import { listArchiveFiles } from '../../src/backup/archive-name.js';
import { ManifestError, sidecarPathOf } from '../../src/backup/manifest.js';
import { restoreArchive } from '../../src/backup/restore-archive.js';
import { checkArchive } from '../../src/backup/verify-archive.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, runTask } from './backup-harness.js';

async function backedUp(): Promise<{ dir: string; archive: string; sidecar: string; good: string }> {
  const dir = tempDir('ct-sidecar-');
  mkdirSync(join(dir, 'data', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'data', 'a.txt'), 'hello\n');
  writeFileSync(join(dir, 'data', 'sub', 'b.txt'), 'world\n');
  const ct = caretakerWith(dir, '  bk:\n    action: backup\n    with: { paths: [data], dest: backups }\n');
  try {
    expect((await runTask(ct, 'bk')).status).toBe('success');
  } finally {
    await ct.close();
  }
  const [a] = listArchiveFiles(join(dir, 'backups'));
  const sidecar = sidecarPathOf(a!.path);
  return { dir, archive: a!.path, sidecar, good: readFileSync(sidecar, 'utf8') };
}

type Json = Record<string, unknown> & {
  entries: Record<string, unknown>[];
  archive: Record<string, unknown>;
};

/** Each way a sidecar can be damaged: raw text, or a change to the parsed good one. */
const DAMAGE: [string, string | ((j: Json) => void)][] = [
  ['empty', ''],
  ['only whitespace', ' \n\t\n'],
  ['not JSON', '{"format": '],
  ['a list', '[]'],
  ['null', 'null'],
  ['a number', '42'],
  ['a string', '"manifest"'],
  ['true', 'true'],
  ['an empty object', '{}'],
  ['binary garbage', '\u0000\u0001\u0002\u00ff'],
  ['a directory', 'DIR'],
  ['cut in half', 'HALF'],
  ['another format', (j) => (j.format = 'tar/1')],
  ['no entries', (j) => delete (j as Partial<Json>).entries],
  ['entries not a list', (j) => ((j as Record<string, unknown>).entries = {})],
  ['a null entry', (j) => ((j.entries as unknown[])[0] = null)],
  ['an entry that is a list', (j) => ((j.entries as unknown[])[0] = [])],
  ['an entry without a path', (j) => delete j.entries[0]!.path],
  ['an empty path', (j) => (j.entries[0]!.path = '')],
  ['an unknown type', (j) => (j.entries[0]!.type = 'fifo')],
  ['a negative size', (j) => (j.entries[0]!.size = -1)],
  ['a fractional size', (j) => (j.entries[0]!.size = 1.5)],
  ['a size as text', (j) => (j.entries[0]!.size = '10')],
  ['a negative mode', (j) => (j.entries[0]!.mode = -1)],
  ['an mtime as text', (j) => (j.entries[0]!.mtime = 'yesterday')],
  ['uid -5', (j) => (j.entries.at(-1)!.uid = -5)],
  ['gid 2^32', (j) => (j.entries.at(-1)!.gid = 2 ** 32)],
  ['a bad sha256', (j) => (j.entries.at(-1)!.sha256 = 'abc')],
  ['a link target that is a number', (j) => (j.entries[0]!.target = 7)],
  ['an unknown kind', (j) => (j.entries[0]!.kind = 'mysql')],
  ['no archive checksum', (j) => delete (j as Partial<Json>).archive],
  ['a bad archive checksum', (j) => (j.archive.sha256 = 'not-hex')],
  ['a negative file count', (j) => (j.files = -1)],
];

function damage(sidecar: string, good: string, how: string | ((j: Json) => void)): void {
  rmSync(sidecar, { recursive: true, force: true });
  if (how === 'DIR') mkdirSync(sidecar);
  else if (how === 'HALF') writeFileSync(sidecar, good.slice(0, Math.floor(good.length / 2)));
  else if (typeof how === 'string') writeFileSync(sidecar, how);
  else {
    const j = JSON.parse(good) as Json;
    how(j);
    writeFileSync(sidecar, JSON.stringify(j, null, 2));
  }
}

describe('a damaged sidecar manifest', () => {
  it(`is a clear error naming the file for list, verify and restore alike (${DAMAGE.length} cases)`, async () => {
    const { dir, archive, sidecar, good } = await backedUp();
    const to = join(dir, 'restored');
    for (const [name, how] of DAMAGE) {
      damage(sidecar, good, how);
      // restore: refused before anything is written, as a usage problem (exit 2)
      const err = await restoreArchive(archive, { to, force: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(ManifestError);
      expect((err as ManifestError).exitCode, name).toBe(2);
      expect((err as Error).message, name).toMatch(
        new RegExp(`^refusing to restore; nothing was written: ${sidecar.replace(/[.]/g, '\\.')} `),
      );
      expect(readdirSync(dir), name).not.toContain('restored');
      // verify: a failed check that names the sidecar
      const check = await checkArchive(archive);
      expect(check.ok, name).toBe(false);
      expect(check.sidecar, name).toBe('unreadable');
      expect(check.problems[0]?.detail, name).toContain(sidecar);
      // list: shown as unreadable
      expect(describeArchive(listArchiveFiles(join(dir, 'backups'))[0]!).sidecar, name).toBe('unreadable');
    }
  });

  it('caretaker backup restore exits 2 with one line, backup verify exits 1, neither an internal error', async () => {
    const { dir, archive, sidecar, good } = await backedUp();
    for (const how of ['DIR', '[]']) {
      damage(sidecar, good, how);
      const r = cli(['backup', 'restore', archive, '--to', join(dir, 'out')], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`^caretaker: refusing to restore; nothing was written: ${sidecar}`),
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/internal error/);
      const v = cli(['backup', 'verify', archive], { cwd: dir });
      expect(v.code).toBe(1);
      expect(v.stdout + v.stderr).toContain(sidecar);
      expect(v.stdout + v.stderr).not.toMatch(/internal error/);
    }
  });

  it('is not damaged when only re-indented: verify passes, restore works', async () => {
    const { dir, archive, sidecar, good } = await backedUp();
    writeFileSync(sidecar, `${JSON.stringify(JSON.parse(good), null, 4)}\n`);
    const check = await checkArchive(archive);
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    const r = await restoreArchive(archive, { to: join(dir, 'out'), force: false });
    expect(r.proof).toBe('sidecar');
    expect(readFileSync(join(r.root, dir.slice(1), 'data', 'a.txt'), 'utf8')).toBe('hello\n');
  });
});
