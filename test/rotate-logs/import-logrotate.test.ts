/**
 * `caretaker import logrotate`: real /etc/logrotate.d files of Debian packages are read without
 * error, and the tasks made from them, run on copies of the logs, leave the same files as the
 * real logrotate with the original configuration.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLogrotate } from '../../src/config/import/logrotate-parse.js';
import { importLogrotate, nodeReader } from '../../src/config/import/logrotate.js';
import { cli } from '../support/cli.js';
import { debianFiles, debianUnavailable } from '../support/debian.js';
import { logrotateMissing, readTree, runLogrotate, runRotate } from '../support/rotate.js';
import { tempDir } from '../support/tmp.js';

const unavailable = debianUnavailable();
if (unavailable) console.warn(`SKIPPED Debian logrotate.d imports: ${unavailable}`);
const LOGROTATE_D = debianFiles('etc/logrotate.d');

describe.skipIf(unavailable)('import logrotate: real Debian /etc/logrotate.d files', () => {
  it('has a good number of real files to read', () => {
    expect(LOGROTATE_D.length).toBeGreaterThanOrEqual(15);
  });

  it("reads Debian's logrotate.conf with all of them included, global options applied", () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logrotate.d'));
    for (const [pkg, file] of LOGROTATE_D)
      copyFileSync(file, join(dir, 'logrotate.d', `${pkg}-${basename(file)}`));
    const [, mainConf] = debianFiles('etc').find(
      ([pkg, f]) => pkg === 'logrotate' && f.endsWith('logrotate.conf'),
    )!;
    writeFileSync(
      join(dir, 'logrotate.conf'),
      readFileSync(mainConf, 'utf8').replace('include /etc/logrotate.d', `include ${dir}/logrotate.d`),
    );
    const all = importLogrotate([join(dir, 'logrotate.conf')]);
    const one = LOGROTATE_D.flatMap(([, f]) => importLogrotate([f]).tasks);
    expect(all.tasks).toHaveLength(one.length);
    // logrotate.conf's `create` reaches stanzas that say nothing about it; nocreate still wins.
    const byPath = (p: string) => all.tasks.find((t) => JSON.stringify(t.with.paths).includes(p))!.with;
    expect(byPath('/var/log/apt/term.log').create).toBe(true);
    expect(byPath('/var/log/exim4/mainlog').create).toBeUndefined();
    expect(byPath('/var/log/postgresql/').create).toBeUndefined(); // copytruncate
    expect(all.warnings.filter((w) => /unknown directive|ignored|skipped/.test(w))).toEqual([]);
  });

  it.each(LOGROTATE_D)('reads %s %s without error or unknown directive', (_pkg, file) => {
    const r = importLogrotate([file]);
    expect(r.tasks.length).toBeGreaterThan(0);
    expect(r.warnings.filter((w) => /unknown directive|ignored|skipped/.test(w))).toEqual([]);
    for (const t of r.tasks) {
      expect(t.with.paths).toBeDefined();
      // Every script carried over is still valid shell (sh -n parses without running).
      for (const phase of ['prerotate', 'postrotate'])
        if (typeof t.with[phase] === 'string') {
          const check = spawnSync('/bin/sh', ['-n', '-c', t.with[phase] as string], { encoding: 'utf8' });
          expect(check.stderr, `${t.id} ${phase}`).toBe('');
          expect(check.status).toBe(0);
        }
    }
  });
});

/** The Debian file with its /var/log paths moved into `root` and its scripts made harmless. */
function sandboxed(text: string, root: string): string {
  return text
    .replace(/(^|\s)\/var\/log\//gm, `$1${root}/var/log/`)
    .replace(
      /^(\s*(?:prerotate|postrotate|firstaction|lastaction)\s*\n)[\s\S]*?(^\s*endscript)/gm,
      '$1\t\ttrue\n$2',
    );
}

function seedLogs(root: string, text: string, round: number): void {
  const { stanzas } = parseLogrotate(['conf'], {
    ...nodeReader,
    readText: () => text,
    isDirectory: () => false,
  });
  for (const s of stanzas)
    for (const p of s.paths)
      for (const v of p.includes('*') ? ['a', 'b'] : ['']) {
        const file = p.replace(/\*/g, v);
        mkdirSync(join(file, '..'), { recursive: true });
        appendFileSync(file, `round ${round} of ${file.slice(root.length)}\n`);
      }
}

describe.skipIf(unavailable || logrotateMissing())(
  'import logrotate: imported tasks behave like logrotate',
  () => {
    it.each(LOGROTATE_D)('%s %s: same files after two forced rotations', async (_pkg, file) => {
      const dir = tempDir();
      const ours = join(dir, 'ours');
      const theirs = join(dir, 'theirs');
      const work = join(dir, 'lr');
      mkdirSync(work);
      const original = readFileSync(file, 'utf8');
      const oursText = sandboxed(original, ours);
      const theirsText = sandboxed(original, theirs);
      writeFileSync(join(dir, 'ours.conf'), oursText);
      const { tasks } = importLogrotate([join(dir, 'ours.conf')]);
      for (let round = 1; round <= 2; round++) {
        seedLogs(ours, oursText, round);
        seedLogs(theirs, theirsText, round);
        for (const t of tasks) {
          const r = await runRotate(ours, t.with, { taskId: t.id });
          expect(r.result.ok, `${t.id}: ${r.result.summary}`).toBe(true);
        }
        runLogrotate(work, theirsText);
        const tree = readTree(join(ours, 'var'));
        expect(tree, `round ${round}`).toEqual(readTree(join(theirs, 'var')));
        expect(
          Object.keys(tree).some((k) => /\.1(\.gz)?$/.test(k)),
          'something was rotated',
        ).toBe(true);
      }
    });
  },
);

describe('import logrotate: configuration structure', () => {
  it('applies global options and includes (files and directories, taboo files skipped)', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logrotate.d'));
    writeFileSync(
      join(dir, 'logrotate.conf'),
      `# main file
weekly
rotate 4
create
include ${dir}/logrotate.d
compress
/var/log/after.log {
    missingok
}
`,
    );
    writeFileSync(
      join(dir, 'logrotate.d', 'app'),
      `/srv/app/*.log /srv/app/extra/out\n{\n  daily\n  rotate 7\n  copytruncate\n}\n`,
    );
    writeFileSync(join(dir, 'logrotate.d', 'app.dpkg-old'), `/srv/old.log {\n rotate 1\n}\n`);
    writeFileSync(join(dir, 'logrotate.d', 'web'), `"/srv/web/access.log" {\n  size 100k\n  nocreate\n}\n`);
    const r = importLogrotate([join(dir, 'logrotate.conf')]);
    expect(r.tasks.map((t) => [t.id, t.with])).toEqual([
      [
        'rotate-app',
        {
          paths: ['/srv/app/*.log', '/srv/app/extra/out'],
          frequency: 'daily',
          rotate: 7,
          copytruncate: true,
        },
      ],
      // compress was set after the include: it does not reach the included stanzas (as in logrotate)
      ['rotate-web-access', { paths: '/srv/web/access.log', size: '100KB', rotate: 4 }],
      [
        'rotate-after',
        {
          paths: '/var/log/after.log',
          frequency: 'weekly',
          rotate: 4,
          compress: true,
          create: true,
          missingok: true,
        },
      ],
    ]);
  });

  it('keeps scripts whole and names what it cannot carry over', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'conf'),
      `/var/log/app/*.log {
    su app app
    mail ops@example.org
    compresscmd /usr/bin/xz
    compress
    compressoptions -9
    sharedscripts
    postrotate
        if [ -f /run/app.pid ]; then
            kill -HUP "$(cat /run/app.pid)"
        fi
    endscript
    firstaction
        echo first
    endscript
    frobnicate
}
`,
    );
    const r = importLogrotate([join(dir, 'conf')]);
    expect(r.tasks[0]!.with).toMatchObject({
      compress: true,
      compress_level: 9,
      sharedscripts: true,
      postrotate: 'if [ -f /run/app.pid ]; then\n    kill -HUP "$(cat /run/app.pid)"\nfi\n',
    });
    const w = r.warnings.join('\n');
    expect(w).toMatch(/conf:2: "su app app" not carried over/);
    expect(w).toMatch(/"mail ops@example.org" not carried over/);
    expect(w).toMatch(/"compresscmd \/usr\/bin\/xz" not carried over: caretaker compresses with gzip/);
    expect(w).toMatch(/firstaction script is not carried over/);
    expect(w).toMatch(/conf:16: unknown directive "frobnicate"/);
    expect(w).toMatch(/no rotate: logrotate’s default 0/);
  });

  it('prints tasks that caretaker validate accepts, warnings on stderr', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'nginx'),
      `/var/log/nginx/*.log {\n daily\n rotate 14\n compress\n delaycompress\n create 0640 www-data adm\n su root adm\n}\n`,
    );
    const r = cli(['import', 'logrotate', 'nginx'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*"su root adm" not carried over/);
    writeFileSync(join(dir, 'caretaker.yaml'), `version: 1\n${r.stdout}`);
    const v = cli(['validate'], { cwd: dir });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(cli(['import', 'logrotate', 'missing.conf'], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: 'caretaker: cannot read missing.conf: no such file or directory\n',
    });
    expect(existsSync(join(dir, '.caretaker'))).toBe(false);
  });
});
