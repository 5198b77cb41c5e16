import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSidecar } from '../../src/backup/manifest.js';
import { checkArchive, describeProblems } from '../../src/backup/verify-archive.js';
import { readVerifyState } from '../../src/backup/verify-state.js';
import { ManualClock } from '../../src/engine/clock.js';
import { tempDir } from '../support/tmp.js';
import { caretakerWith, craftArchive, runTask } from './backup-harness.js';

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0x5a;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

/** Files of distinct, incompressible-ish content so that every compressed byte belongs to one. */
function makeData(dir: string, files = 20): void {
  mkdirSync(join(dir, 'data'));
  let x = 12345;
  for (let i = 0; i < files; i++) {
    const b = Buffer.alloc(40_000);
    for (let j = 0; j < b.length; j++) b[j] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    writeFileSync(join(dir, 'data', `file-${String(i).padStart(2, '0')}.bin`), b);
  }
}

async function backup(dir: string, compression: string): Promise<string> {
  const ct = caretakerWith(
    dir,
    `  nightly:\n    action: backup\n    with: { paths: [data], dest: backups, compression: ${compression} }\n`,
  );
  try {
    const run = await runTask(ct, 'nightly');
    expect(run.status, run.reason ?? '').toBe('success');
    return run.result!.details!.archive as string;
  } finally {
    await ct.close();
  }
}

describe('verifying archives', () => {
  it('names the corrupt entry when one byte in the middle of a plain tar is flipped', async () => {
    const dir = tempDir('ct-verify-');
    makeData(dir);
    const archive = await backup(dir, 'none');
    expect((await checkArchive(archive)).ok).toBe(true);
    // Find the data of file-10 from the manifest order: headers are 512 bytes, data padded to 512.
    const sidecar = readSidecar(archive)!;
    let offset = 0;
    let target = 0;
    for (const e of sidecar.entries) {
      offset += 512; // header (the paths here are short: no pax header)
      if (e.path.endsWith('file-10.bin')) target = offset + 20_000;
      offset += Math.ceil(e.size / 512) * 512;
    }
    flipByte(archive, target);
    const check = await checkArchive(archive);
    expect(check.ok).toBe(false);
    expect(check.sidecar).toBe('mismatch');
    const corrupt = check.problems.filter((p) => p.kind === 'corrupt');
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]!.path).toMatch(/data\/file-10\.bin$/);
    expect(corrupt[0]!.detail).toMatch(/SHA-256 mismatch/);
  });

  it('fails a gzip archive with one byte flipped in its middle, naming where it broke', async () => {
    const dir = tempDir('ct-verify-');
    makeData(dir);
    const archive = await backup(dir, '6');
    flipByte(archive, Math.floor(statSync(archive).size / 2));
    const check = await checkArchive(archive);
    expect(check.ok).toBe(false);
    expect(check.sidecar).toBe('mismatch');
    const lines = describeProblems(check).join('\n');
    // Either inflate fails inside an entry, or it inflates wrong bytes and an entry's SHA-256 fails.
    expect(lines).toMatch(/data\/file-\d\d\.bin/);
  });

  it('verify-backups checks a different slice each run and covers every archive in N runs', async () => {
    const dir = tempDir('ct-verify-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/a.txt'), 'a');
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 2));
    const ct = caretakerWith(
      dir,
      `  nightly:\n    action: backup\n    with: { paths: [data], dest: backups, verify: false }\n` +
        `  weekly-verify:\n    action: verify-backups\n    with: { dest: backups, subset: 1/3 }\n`,
      clock,
    );
    try {
      for (let i = 0; i < 9; i++) {
        expect((await runTask(ct, 'nightly')).status).toBe('success');
        clock.advanceTo(clock.now() + 86_400_000);
      }
      const checked: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await runTask(ct, 'weekly-verify');
        expect(run.status, run.result?.summary).toBe('success');
        expect(run.result?.details?.subset).toBe(`slice ${i + 1}/3`);
        checked.push(...(run.result!.details!.archives as { name: string }[]).map((a) => a.name));
      }
      expect(checked).toHaveLength(9);
      expect(new Set(checked).size).toBe(9); // each archive exactly once in three runs
      const next = await runTask(ct, 'weekly-verify');
      expect(next.result?.details?.subset).toBe('slice 1/3'); // and round again
    } finally {
      await ct.close();
    }
  });

  it('verify-backups fails on a corrupt archive, records it, and fails when there is nothing to verify', async () => {
    const dir = tempDir('ct-verify-');
    makeData(dir, 3);
    const archive = await backup(dir, '6');
    flipByte(archive, Math.floor(statSync(archive).size / 2));
    const ct = caretakerWith(
      dir,
      `  v:\n    action: verify-backups\n    with: { dest: backups }\n  empty:\n    action: verify-backups\n    with: { dest: nothing-here }\n`,
    );
    try {
      const run = await runTask(ct, 'v');
      expect(run.status).toBe('failed');
      expect(run.result?.summary).toMatch(/^1 of 1 archives FAILED verification: nightly-/);
      expect(run.result?.issuesFound).toBe(1);
      const state = readVerifyState(archive)!;
      expect(state.ok).toBe(false);
      expect(state.by).toBe('verify-backups');
      const empty = await runTask(ct, 'empty');
      expect(empty.status).toBe('failed');
      expect(empty.result?.summary).toMatch(/no archives in .*nothing-here: are the backups running\?/);
    } finally {
      await ct.close();
    }
  });

  it('runs a restore drill with the configured command, and fails it when the command fails', async () => {
    const dir = tempDir('ct-verify-');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/config.json'), '{"ok":true}');
    const ct = caretakerWith(
      dir,
      `  nightly:\n    action: backup\n    with: { paths: [data], dest: backups }\n` +
        `  drill-ok:\n    action: verify-backups\n    with: { dest: backups, latest: 1, drill: true, drill_dir: drills,\n` +
        `      drill_command: 'test "$(cat "$CARETAKER_RESTORE_DIR${dir}/data/config.json")" = "{\\"ok\\":true}"' }\n` +
        `  drill-bad:\n    action: verify-backups\n    with: { dest: backups, drill: true, drill_dir: drills, drill_command: 'exit 3' }\n`,
    );
    try {
      expect((await runTask(ct, 'nightly')).status).toBe('success');
      const ok = await runTask(ct, 'drill-ok');
      expect(ok.status, ok.result?.summary).toBe('success');
      expect(ok.result?.summary).toMatch(/restore drill of nightly-.* passed \(1 file\)/);
      const bad = await runTask(ct, 'drill-bad');
      expect(bad.status).toBe('failed');
      expect(bad.result?.summary).toMatch(/restore drill FAILED: drill_command exited with 3/);
      // The drill cleans up after itself.
      expect(statSync(join(dir, 'drills')).isDirectory()).toBe(true);
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(join(dir, 'drills'))).toEqual([]);
    } finally {
      await ct.close();
    }
  });

  it('reports missing entries a manifest promises', async () => {
    const dir = tempDir('ct-verify-');
    const archive = join(dir, 'x.tar.gz');
    await craftArchive(archive, [{ path: 'a.txt', type: 'file', content: 'a' }], {
      manifestEntries: [
        { path: 'a.txt', type: 'file', content: 'a' },
        { path: 'b.txt', type: 'file', content: 'b' },
      ],
    });
    const check = await checkArchive(archive);
    expect(check.ok).toBe(false);
    expect(describeProblems(check)).toEqual(['missing: b.txt: listed in the manifest, not in the archive']);
  });
});
