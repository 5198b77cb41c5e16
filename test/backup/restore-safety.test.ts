import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreArchive } from '../../src/backup/restore-archive.js';
import { linkEscapes } from '../../src/backup/restore-plan.js';
import { tempDir } from '../support/tmp.js';
import { craftArchive, type CraftedEntry } from './backup-harness.js';

/** A place an attack would write to, next to (outside) the restore target. */
function setup() {
  const dir = tempDir('ct-restore-');
  const to = join(dir, 'restore');
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'original');
  return { dir, to, outside, archive: join(dir, 'evil.tar.gz') };
}

function untouched(outside: string): void {
  expect(readdirSync(outside)).toEqual(['victim.txt']);
  expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('original');
}

describe('restore of hostile archives (tar-slip)', () => {
  const cases: [string, (s: ReturnType<typeof setup>) => CraftedEntry[], RegExp][] = [
    [
      'an absolute path',
      (s) => [
        { path: 'ok.txt', type: 'file', content: 'fine' },
        { path: join(s.outside, 'victim.txt'), type: 'file', content: 'pwned' },
      ],
      /absolute path/,
    ],
    [
      'a ../../ path',
      () => [
        { path: 'ok.txt', type: 'file', content: 'fine' },
        { path: '../outside/victim.txt', type: 'file', content: 'pwned' },
      ],
      /path contains \.\./,
    ],
    [
      'a symlink to /etc followed by a file through it',
      () => [
        { path: 'etc', type: 'symlink', target: '/etc' },
        { path: 'etc/caretaker-pwned', type: 'file', content: 'pwned' },
      ],
      /etc: symlink to \/etc points outside the target directory, and entries below it would be written through it[\s\S]*etc\/caretaker-pwned: lies below the symlink etc/,
    ],
    [
      'a relative symlink out of the target followed by a file through it',
      () => [
        { path: 'up', type: 'symlink', target: '../outside' },
        { path: 'up/victim.txt', type: 'file', content: 'pwned' },
      ],
      /up: symlink to \.\.\/outside points outside the target directory, and entries below/,
    ],
    [
      'a link that escapes only through another link (a -> ., b -> a/x/../..)',
      () => [
        { path: 'x', type: 'dir' },
        { path: 'a', type: 'symlink', target: '.' },
        { path: 'b', type: 'symlink', target: 'a/x/../../outside' },
        { path: 'b/victim.txt', type: 'file', content: 'pwned' },
      ],
      /b: symlink to a\/x\/\.\.\/\.\.\/outside points outside the target directory, and entries below/,
    ],
  ];

  for (const [name, entries, message] of cases) {
    it(`refuses ${name} and writes nothing at all`, async () => {
      const s = setup();
      await craftArchive(s.archive, entries(s));
      await expect(restoreArchive(s.archive, { to: s.to, force: true })).rejects.toThrow(message);
      untouched(s.outside);
      expect(existsSync(s.to)).toBe(false);
      expect(existsSync('/etc/caretaker-pwned')).toBe(false);
    });
  }

  it('restores a link that points outside as a link, never following it', async () => {
    // GNU tar does the same: a link is data; only writing through one is tar-slip.
    const s = setup();
    await craftArchive(s.archive, [
      { path: 'etc-hostname', type: 'symlink', target: '/etc/hostname' },
      { path: 'shared', type: 'symlink', target: '../outside' },
      { path: 'x', type: 'dir' },
      { path: 'a', type: 'symlink', target: '.' },
      { path: 'b', type: 'symlink', target: 'a/x/../../outside/victim.txt' },
      { path: 'ok.txt', type: 'file', content: 'fine' },
    ]);
    const r = await restoreArchive(s.archive, { to: s.to, force: true });
    expect(r.externalLinks).toEqual([
      { path: 'etc-hostname', target: '/etc/hostname' },
      { path: 'shared', target: '../outside' },
      { path: 'b', target: 'a/x/../../outside/victim.txt' },
    ]);
    expect(readlinkSync(join(s.to, 'etc-hostname'))).toBe('/etc/hostname');
    expect(readlinkSync(join(s.to, 'shared'))).toBe('../outside');
    expect(readFileSync(join(s.to, 'ok.txt'), 'utf8')).toBe('fine');
    untouched(s.outside);
    // Restoring again with --force replaces the links themselves, never what they point to.
    await restoreArchive(s.archive, { to: s.to, force: true });
    untouched(s.outside);
    expect(readlinkSync(join(s.to, 'b'))).toBe('a/x/../../outside/victim.txt');
  });

  it('refuses an entry that is in the archive but not in its manifest, writing nothing outside', async () => {
    const s = setup();
    await craftArchive(
      s.archive,
      [
        { path: 'ok.txt', type: 'file', content: 'fine' },
        { path: '../outside/victim.txt', type: 'file', content: 'pwned' },
      ],
      { manifestEntries: [{ path: 'ok.txt', type: 'file', content: 'fine' }] },
    );
    await expect(restoreArchive(s.archive, { to: s.to, force: true })).rejects.toThrow(
      /\.\.\/outside\/victim\.txt: path contains \.\./,
    );
    untouched(s.outside);
  });

  it('refuses to write through a symlink that already exists in the target', async () => {
    const s = setup();
    mkdirSync(s.to);
    symlinkSync(s.outside, join(s.to, 'data'));
    await craftArchive(s.archive, [
      { path: 'data', type: 'dir' },
      { path: 'data/victim.txt', type: 'file', content: 'pwned' },
    ]);
    await expect(restoreArchive(s.archive, { to: s.to, force: true })).rejects.toThrow(
      /data: exists on disk and is not a directory|data is a symlink on disk/,
    );
    untouched(s.outside);
  });

  it('refuses a plain tar.gz made by GNU tar (no manifest)', async () => {
    const s = setup();
    writeFileSync(join(s.dir, 'a.txt'), 'a');
    execFileSync('tar', ['czf', s.archive, '-C', s.dir, 'a.txt']);
    await expect(restoreArchive(s.archive, { to: s.to, force: false })).rejects.toThrow(
      /no MANIFEST\.json: not a caretaker archive/,
    );
    expect(existsSync(s.to)).toBe(false);
  });

  it('refuses when the manifest leaves an archived entry out', async () => {
    const s = setup();
    await craftArchive(s.archive, [{ path: 'a.txt', type: 'file', content: 'a' }], {
      sidecar: false,
      manifestEntries: [],
    });
    await expect(restoreArchive(s.archive, { to: s.to, force: false })).rejects.toThrow(
      /extra: a\.txt: in the archive, not in the manifest/,
    );
    expect(existsSync(s.to)).toBe(false);
  });

  it('restores a clean crafted archive without a sidecar after verifying it fully', async () => {
    const s = setup();
    await craftArchive(
      s.archive,
      [
        { path: 'd', type: 'dir' },
        { path: 'd/f.txt', type: 'file', content: 'hello' },
        { path: 'd/l', type: 'symlink', target: 'f.txt' },
      ],
      { sidecar: false },
    );
    const r = await restoreArchive(s.archive, { to: s.to, force: false });
    expect(r.proof).toBe('full-verify');
    expect(readFileSync(join(s.to, 'd/l'), 'utf8')).toBe('hello');
  });

  it('restores only what --only selects, and overwrites only with --force', async () => {
    const s = setup();
    await craftArchive(s.archive, [
      { path: 'srv', type: 'dir' },
      { path: 'srv/app', type: 'dir' },
      { path: 'srv/app/keep.txt', type: 'file', content: 'new' },
      { path: 'srv/other.txt', type: 'file', content: 'other' },
    ]);
    mkdirSync(join(s.to, 'srv/app'), { recursive: true });
    writeFileSync(join(s.to, 'srv/app/keep.txt'), 'old');
    await expect(restoreArchive(s.archive, { to: s.to, force: false, only: 'srv/app/**' })).rejects.toThrow(
      /srv\/app\/keep\.txt: exists \(use --force to overwrite\)/,
    );
    expect(readFileSync(join(s.to, 'srv/app/keep.txt'), 'utf8')).toBe('old');
    const r = await restoreArchive(s.archive, { to: s.to, force: true, only: 'srv/app/**' });
    expect(r.replaced).toBe(1);
    expect(readFileSync(join(s.to, 'srv/app/keep.txt'), 'utf8')).toBe('new');
    expect(existsSync(join(s.to, 'srv/other.txt'))).toBe(false);
    await expect(restoreArchive(s.archive, { to: s.to, force: true, only: 'nothing/**' })).rejects.toThrow(
      /--only nothing\/\*\* matches nothing/,
    );
  });

  it('resolves links through other links, not only lexically', () => {
    const links = new Map([
      ['a', '.'],
      ['deep/up', '../..'],
    ]);
    const lookup = (p: string) => links.get(p);
    expect(linkEscapes('l', 'a/a/a/file', lookup)).toBe(false);
    expect(linkEscapes('l', 'a/x/../..', lookup)).toBe(true);
    expect(linkEscapes('deep/l', 'up', lookup)).toBe(true);
    expect(linkEscapes('deep/l', '../file', lookup)).toBe(false);
    expect(linkEscapes('l', '/etc', lookup)).toBe(true);
  });
});
