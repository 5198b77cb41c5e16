import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { parseConfigText } from '../../src/config/load.js';
import { importCrontab, renderImportedTasks, splitPercent } from '../../src/config/import/crontab.js';
import { cli } from '../support/cli.js';
import { debianFiles, debianUnavailable } from '../support/debian.js';
import { tempDir } from '../support/tmp.js';

/** The rendered YAML must load as caretaker tasks, schedules included. */
function loadRendered(yaml: string) {
  return parseConfigText(`version: 1\n${yaml}`, '/tmp/imported.yaml', { registry: loadedBuiltinRegistry() });
}

describe('import crontab: files shipped by Debian packages', () => {
  const files = debianFiles('etc/cron.d');
  const why = debianUnavailable();
  if (why) console.warn(`skipping the Debian cron.d files: ${why}`);

  it.skipIf(why !== undefined)('found the cron.d files of several packages', () => {
    expect(files.map(([pkg]) => pkg)).toEqual(
      expect.arrayContaining(['anacron', 'certbot', 'e2fsprogs', 'mdadm', 'php-common', 'sysstat']),
    );
  });

  it.skipIf(why !== undefined)('converts every one into valid caretaker tasks', () => {
    for (const [, file] of files) {
      const result = importCrontab(readFileSync(file, 'utf8'), { source: file, format: 'system' });
      expect(result.tasks.length, file).toBeGreaterThan(0);
      const config = loadRendered(renderImportedTasks(result, file));
      expect(config.tasks.map((t) => t.id)).toEqual(result.tasks.map((t) => t.id));
      for (const t of config.tasks) expect(t.schedule, `${file} ${t.id}`).not.toBeNull();
    }
  });

  it.skipIf(why !== undefined)('keeps sysstat’s schedule, user and PATH', () => {
    const [, file] = files.find(([pkg]) => pkg === 'sysstat')!;
    const { tasks } = importCrontab(readFileSync(file, 'utf8'), { source: file, format: 'system' });
    expect(tasks.map((t) => [t.schedule, t.user, t.command])).toEqual([
      ['5-55/10 * * * *', 'root', 'command -v debian-sa1 > /dev/null && debian-sa1 1 1'],
      ['59 23 * * *', 'root', 'command -v debian-sa1 > /dev/null && debian-sa1 60 2'],
    ]);
    expect(tasks[0]!.env.PATH).toMatch(/^\/usr\/lib\/sysstat:/);
    expect(tasks.map((t) => t.id)).toEqual(['debian-sa1', 'debian-sa1-2']);
  });

  it.skipIf(why !== undefined)('turns mdadm’s escaped \\% back into a literal %', () => {
    const [, file] = files.find(([pkg]) => pkg === 'mdadm')!;
    const { tasks } = importCrontab(readFileSync(file, 'utf8'), { source: file, format: 'system' });
    expect(tasks[0]!.command).toContain('$(date +%d) -le 7');
    expect(tasks[0]!.stdin).toBeUndefined();
  });
});

describe('import crontab: the format', () => {
  const sample = [
    '# a user crontab',
    'SHELL=/bin/bash',
    'MAILTO=ops@example.org',
    'CRON_TZ=Europe/Berlin',
    'RANDOM_DELAY=5',
    'BACKUP_DIR="/srv/backups"',
    '',
    '0 2 * * * /usr/local/bin/backup.sh --full',
    '@daily   find /tmp -mtime +7 -delete',
    '@reboot /usr/local/bin/warm-cache',
    '*/5 * * * * mail -s "report" ops@example.org%line one%line two with \\% sign',
    '61 * * * * /bin/never',
  ].join('\n');

  it('reads environment lines, nicknames, % and comments, and warns about what has no equivalent', () => {
    const r = importCrontab(sample, { source: 'crontab', format: 'user' });
    expect(r.tasks.map((t) => t.schedule)).toEqual(['0 2 * * *', '@daily', '*/5 * * * *']);
    expect(r.tasks[0]).toMatchObject({
      id: 'backup-full',
      timezone: 'Europe/Berlin',
      jitter: '5m',
      command: ['/bin/bash', '-c', '/usr/local/bin/backup.sh --full'],
      env: { BACKUP_DIR: '/srv/backups' },
    });
    expect(r.tasks[2]).toMatchObject({
      command: ['/bin/bash', '-c', 'mail -s "report" ops@example.org'],
      stdin: 'line one\nline two with % sign\n',
    });
    expect(r.warnings.join('\n')).toMatch(
      /crontab:3: MAILTO=ops@example.org has no equivalent; use caretaker's notify/,
    );
    expect(r.warnings.join('\n')).toMatch(/crontab:10: @reboot has no equivalent .* skipped/);
    expect(r.warnings.join('\n')).toMatch(
      /crontab:12: "61 \* \* \* \*" is not a valid cron expression: Invalid value for minute: 61 — skipped/,
    );
    const config = loadRendered(renderImportedTasks(r, 'crontab'));
    expect(config.tasks[0]).toMatchObject({ timezone: 'Europe/Berlin', jitterMs: 300_000 });
  });

  it('splits a command at the first unescaped %', () => {
    expect(splitPercent('echo a\\%b')).toEqual({ command: 'echo a%b', stdin: undefined });
    expect(splitPercent('cat%x%y')).toEqual({ command: 'cat', stdin: 'x\ny\n' });
  });

  it('runs end to end through the CLI, from a file or stdin, with warnings on stderr', () => {
    const dir = tempDir();
    const r = cli(['import', 'crontab', '-'], { cwd: dir, input: sample });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# imported from stdin by caretaker import crontab/);
    expect(r.stdout).toMatch(/\n {2}backup-full:\n {4}description: imported from stdin line 8\n/);
    expect(r.stderr).toMatch(/warning: stdin:10: @reboot has no equivalent/);
    const missing = cli(['import', 'crontab', 'nope.cron'], { cwd: dir });
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr.trim()).toBe('caretaker: cannot read nope.cron: no such file');
  });
});
