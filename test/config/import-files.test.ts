/**
 * `caretaker import crontab` and `import logrotate` on real files: a system crontab outside /etc,
 * a cron.d directory, ids that must all come out, jobs caretaker would refuse, and files that are
 * not regular files (which must be skipped, not read forever).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCrontabPath } from '../../src/config/import/crontab-files.js';
import { importLogrotate } from '../../src/config/import/logrotate.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const SYSTEM = [
  'SHELL=/bin/sh',
  'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin',
  '17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly',
  '25 6\t* * *\troot\ttest -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )',
  '',
].join('\n');

/** The import's YAML written as a caretaker.yaml and validated by the CLI. */
function importThenValidate(dir: string, stdout: string) {
  writeFileSync(join(dir, 'caretaker.yaml'), `version: 1\n${stdout}`);
  return cli(['validate'], { cwd: dir });
}

/** Runs the CLI with a short timeout: an import that reads a FIFO or /dev/zero never ends. */
function cliQuick(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, timedOut: r.signal === 'SIGTERM' };
}

describe('import crontab: a system crontab outside /etc', () => {
  it('finds the user column by the user names of the host, and names tasks by what they do', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'crontab'), SYSTEM);
    const r = importCrontabPath(join(dir, 'crontab'), { users: new Set(['root', 'www-data']) });
    expect(r.format).toBe('system');
    expect(r.result.tasks.map((t) => [t.id, t.user, t.command])).toEqual([
      ['run-parts-cron-hourly', 'root', 'cd / && run-parts --report /etc/cron.hourly'],
      [
        'run-parts-cron-daily',
        'root',
        'test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )',
      ],
    ]);
    expect(r.result.warnings.join('\n')).toMatch(/read as a system crontab: every job names a user \(root\)/);
  });

  it('refuses a file where some lines have a user column and others not, naming the flag', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'jobs'), `${SYSTEM}0 1 * * * /usr/bin/backup.sh --full\n`);
    const r = cli(['import', 'crontab', 'jobs'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `${dir}/jobs:3:12: "root" after the schedule is a user name, as in a system crontab (/etc/crontab, /etc/cron.d), but line 5 has no user column; pass --system if the user column is meant, or --user if "root" is the command`,
    );
    const forced = cli(['import', 'crontab', '--system', 'jobs'], { cwd: dir });
    expect(forced.code).toBe(0);
  });

  it('imports a user crontab as it is, ids from the command and its first operand or option', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'mine'),
      '0 1 * * * /usr/bin/backup.sh --full\n@daily find /tmp -mtime +7 -delete\n',
    );
    const r = importCrontabPath(join(dir, 'mine'), { users: new Set(['root']) });
    expect(r.format).toBe('user');
    expect(r.result.tasks.map((t) => t.id)).toEqual(['backup-full', 'find-tmp']);
  });
});

describe('import crontab: a cron.d directory', () => {
  it('imports every file cron would read, skipping backups, dpkg leftovers, hidden files and FIFOs', () => {
    const dir = tempDir();
    const crond = join(dir, 'cron.d');
    mkdirSync(join(crond, 'sub'), { recursive: true });
    writeFileSync(join(crond, 'alpha'), '*/5 * * * * root /usr/lib/alpha/sweep\n');
    writeFileSync(join(crond, 'beta_2'), '0 3 * * * www-data /usr/lib/alpha/sweep\n');
    writeFileSync(join(crond, 'alpha.dpkg-dist'), '* * * * * root /bin/false\n');
    writeFileSync(join(crond, 'alpha~'), '* * * * * root /bin/false\n');
    writeFileSync(join(crond, '.placeholder'), '');
    spawnSync('mkfifo', [join(crond, 'pipe')]);
    const r = cliQuick(['import', 'crontab', 'cron.d'], dir);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\n {2}sweep:\n {4}description: imported from .*\/cron\.d\/alpha line 1 \(ran as root\)/,
    );
    expect(r.stdout).toMatch(
      /\n {2}sweep-2:\n {4}description: imported from .*\/cron\.d\/beta_2 line 1 \(ran as www-data\)/,
    );
    expect(r.stdout).not.toMatch(/false/);
    expect(r.stderr).toMatch(/cron\.d\/alpha\.dpkg-dist: skipped, as cron skips it/);
    expect(r.stderr).toMatch(/cron\.d\/alpha~: skipped, as cron skips it/);
    expect(r.stderr).toMatch(/cron\.d\/pipe: a FIFO, not a regular file — skipped/);
    expect(r.stderr).not.toMatch(/placeholder|sub/);
    const v = importThenValidate(dir, r.stdout);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  it('skips a FIFO or a device given as the file, with a warning', () => {
    const dir = tempDir();
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    for (const f of ['fifo', '/dev/zero']) {
      const r = cliQuick(['import', 'crontab', f], dir);
      expect(r.timedOut, f).toBe(false);
      expect(r.code, f).toBe(0);
      expect(r.stderr).toMatch(/not a regular file — skipped/);
      expect(r.stdout).toMatch(/tasks: \{\}/);
    }
  });
});

describe('import crontab: every job comes out, as a task caretaker accepts', () => {
  it('gives every job its own id, also when a generated suffix meets another id', () => {
    const dir = tempDir();
    const r = cli(['import', 'crontab', '-'], {
      cwd: dir,
      input: '* * * * * foo-2\n* * * * * foo\n* * * * * foo\n',
    });
    expect(r.code).toBe(0);
    expect([...r.stdout.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1])).toEqual(['foo-2', 'foo', 'foo-3']);
  });

  it('leaves out what caretaker would refuse, saying why, and the rest validates', () => {
    const dir = tempDir();
    const input = [
      '0 1 * * * good --one',
      '%stdin only',
      '0 2 * * * %only stdin',
      'SHELL=',
      '0 3 * * * after-empty-shell',
      '',
    ].join('\n');
    const r = cli(['import', 'crontab', '-'], { cwd: dir, input });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stdin:3: the command before the first % \(its stdin\) is empty — skipped/);
    expect(r.stderr).toMatch(/stdin:5: SHELL is empty \(line 4\), so cron could not run it either — skipped/);
    expect([...r.stdout.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1])).toEqual(['good-one']);
    const v = importThenValidate(dir, r.stdout);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });
});

describe('import logrotate: ids and odd files', () => {
  it('keeps every stanza, ids unique against every id so far', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'conf'),
      [
        '/var/log/foo-2.log {',
        '  daily',
        '}',
        '/var/log/foo.log {',
        '  daily',
        '}',
        '/srv/log/foo.log {',
        '  daily',
        '}',
        '',
      ].join('\n'),
    );
    const r = importLogrotate([join(dir, 'conf')]);
    expect(r.tasks.map((t) => t.id)).toEqual(['rotate-foo-2', 'rotate-foo', 'rotate-foo-3']);
    const out = cli(['import', 'logrotate', 'conf'], { cwd: dir });
    expect([...out.stdout.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1])).toHaveLength(3);
    const v = importThenValidate(dir, out.stdout);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  it('skips an included FIFO or device, as logrotate does, instead of reading it forever', () => {
    const dir = tempDir();
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(
      join(dir, 'conf'),
      `include /dev/zero\ninclude ${dir}/fifo\n/var/log/app.log {\n  weekly\n  rotate 2\n}\n`,
    );
    const r = cliQuick(['import', 'logrotate', 'conf'], dir);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: \/dev\/zero: a device, not a regular file — skipped/);
    expect(r.stderr).toMatch(/warning: .*\/fifo: a FIFO, not a regular file — skipped/);
    expect(r.stdout).toMatch(/rotate-app:/);
  });
});
