import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function project(extra = ''): string {
  const dir = tempDir('ct-backup-cli-');
  mkdirSync(join(dir, 'data/sub'), { recursive: true });
  writeFileSync(join(dir, 'data/a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'data/sub/b.txt'), 'beta\n');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1\nstate_dir: .caretaker\ntasks:\n  nightly:\n    action: backup\n    with: { paths: [data], dest: backups }\n${extra}`,
  );
  return dir;
}

describe('caretaker backup list | verify | restore', () => {
  it('lists, verifies and restores the archives of the configured backup tasks', () => {
    const dir = project();
    expect(cli(['backup', 'list'], { cwd: dir }).stdout.trim()).toBe('no archives yet');
    const run = cli(['run-task', 'nightly', '--wait'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /backed up 2 files \(11B → \d+B, \d+%\) to .*\/backups\/nightly-\d{8}T\d{6}Z\.tar\.gz in .*, verified/,
    );

    const list = cli(['backup', 'list'], { cwd: dir });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^ARCHIVE\s+TASK\s+SIZE\s+AGE\s+FILES\s+VERIFIED\nnightly-\S+\.tar\.gz\s+nightly\s+\d+B\s+\S+\s+2\s+ok /,
    );
    const json = JSON.parse(cli(['backup', 'list', '--json'], { cwd: dir }).stdout) as {
      name: string;
      files: number;
    }[];
    expect(json).toHaveLength(1);
    const name = json[0]!.name;

    const verify = cli(['backup', 'verify'], { cwd: dir });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`^ok\\s+${name.replace(/\./g, '\\.')}\\s+5 entries`));

    // Restore by name, into a fresh dir; a second restore refuses to overwrite (exit 1).
    const to = join(dir, 'out');
    const restored = cli(['backup', 'restore', name, '--to', to], { cwd: dir });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(
      `restored 2 files, 2 directories, 0 links (11B) from ${name} into ${to}`,
    );
    expect(readFileSync(join(to, dir.slice(1), 'data/sub/b.txt'), 'utf8')).toBe('beta\n');
    const again = cli(['backup', 'restore', name, '--to', to], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /refusing to restore; nothing was written:\n {2}.*data\/a\.txt: exists \(use --force to overwrite\)/,
    );
    expect(cli(['backup', 'restore', name, '--to', to, '--force'], { cwd: dir }).code).toBe(0);

    // Each restore is in the audit log too, as this Unix user from the CLI, the refused one failed.
    const audit = JSON.parse(cli(['audit', '--json'], { cwd: dir }).stdout) as {
      actor: string;
      source: string;
      action: string;
      target: string;
      outcome: string;
    }[];
    expect(audit.filter((a) => a.action === 'restore').map((a) => [a.source, a.target, a.outcome])).toEqual([
      ['cli', name, 'ok'],
      ['cli', name, 'failed'],
      ['cli', name, 'ok'],
    ]);

    // Each restore is in the backup task's history (trigger restore), the refused one as failed;
    // none of them counts as a run of the task.
    const history = JSON.parse(cli(['history', 'nightly', '--json'], { cwd: dir }).stdout) as {
      trigger: string;
      status: string;
      reason: string | null;
      result: { summary: string } | null;
    }[];
    expect(history.map((r) => `${r.trigger}:${r.status}`)).toEqual([
      'restore:success',
      'restore:failed',
      'restore:success',
      'manual:success',
    ]);
    expect(history[2]!.result!.summary).toBe(`restored 2 files (11B) from ${name} into ${to}`);
    expect(history[1]!.reason).toMatch(
      new RegExp(`^restore of ${name.replace(/\./g, '\\.')} into ${to} failed: refusing to restore`),
    );
    expect(restored.stdout).toMatch(/recorded as run #\d+ of nightly/);
    const [task] = JSON.parse(cli(['list-tasks', '--json'], { cwd: dir }).stdout) as { lastStatus: string }[];
    expect(task!.lastStatus).toBe('success');
    const metrics = JSON.parse(cli(['metrics', '--json'], { cwd: dir }).stdout) as {
      total: { runs: number };
    };
    expect(metrics.total.runs).toBe(1);
  });

  it('exits 1 when an archive fails verification and shows it in the list', () => {
    const dir = project();
    expect(cli(['run-task', 'nightly', '--wait'], { cwd: dir }).code).toBe(0);
    const { name, path } = JSON.parse(cli(['backup', 'list', '--json'], { cwd: dir }).stdout)[0] as {
      name: string;
      path: string;
    };
    const bytes = readFileSync(path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(path, bytes);
    const verify = cli(['backup', 'verify', path], { cwd: dir });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(new RegExp(`^FAILED\\s+${name.replace(/\./g, '\\.')}`));
    expect(verify.stdout).toContain("the archive's SHA-256 differs from its sidecar manifest");
    expect(cli(['backup', 'list'], { cwd: dir }).stdout).toMatch(/FAILED (now|\S+ ago)/);
    const restore = cli(['backup', 'restore', path, '--to', join(dir, 'out')], { cwd: dir });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(
      /refusing to restore; nothing was written: .* differs from its sidecar checksum/,
    );
  });

  it('answers bad usage with one line and exit 2', () => {
    const dir = project();
    const noTo = cli(['backup', 'restore', 'x.tar.gz'], { cwd: dir });
    expect(noTo.code).toBe(2);
    expect(noTo.stderr.trim()).toBe(
      'caretaker: backup restore needs --to DIR (the directory to restore into)',
    );
    const missing = cli(['backup', 'restore', 'nope.tar.gz', '--to', 'out'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`caretaker: no archive nope.tar.gz in ${join(dir, 'backups')}`);
    const root = cli(['backup', 'restore', 'nope.tar.gz', '--to', '/'], { cwd: dir });
    expect(root.code).toBe(2);
    const elsewhere = tempDir('ct-backup-cli-');
    const noConfig = cli(['backup', 'list'], { cwd: elsewhere });
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr.trim()).toBe(
      'caretaker: no caretaker.yaml here: pass --dest DIR, -c CONFIG, or an archive path',
    );
  });

  it('validates backup options at load time without echoing a password', () => {
    const dir = project(
      `  bad:\n    action: backup\n    with:\n      dest: backups\n      postgres: ['mysql://root:hunter2@db/app']\n      keep: {}\n      compresion: 9\n`,
    );
    const r = cli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).toMatch(/tasks\.bad\.with\.postgres.*expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(r.stderr).toMatch(
      /tasks\.bad\.with\.keep.*needs at least one of last, daily, weekly, monthly, yearly/,
    );
    expect(r.stderr).toMatch(/tasks\.bad\.with.*compresion.*did you mean "compression"/);
  });
});
