/** `caretaker token create|list|revoke` and `caretaker audit` as a user runs them, without a daemon. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function project(): string {
  const dir = tempDir('ct-token-');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    'version: 1\ntasks:\n  backup: { action: shell, schedule: "@daily", with: { command: "true" } }\n',
  );
  return dir;
}

describe('caretaker token', () => {
  it('create prints the token once (alone on stdout); only its SHA-256 is stored; list never shows it', () => {
    const dir = project();
    const r = cli(['token', 'create', 'ci', '--role', 'operator', '--tasks', 'backup', '--expires', '30d'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).toBe(`${token}\n`);
    expect(r.stderr).toContain('shown this once');
    const list = cli(['token', 'list'], { cwd: dir });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ci\s+operator\s+backup\s+in (30d|29d 23h)\s+never\s+-$/m);
    const json = cli(['token', 'list', '--json'], { cwd: dir });
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows).toMatchObject([
      { name: 'ci', role: 'operator', tasks: ['backup'], expiresSoon: false, revokedAt: null },
    ]);
    expect(rows[0]).not.toHaveProperty('hash');
    // Nowhere on disk in clear: not in the database, its WAL, nor the logs.
    const state = join(dir, '.caretaker');
    for (const f of readdirSync(state, { recursive: true, withFileTypes: true }))
      if (f.isFile()) expect(readFileSync(join(f.parentPath, f.name)).includes(token), f.name).toBe(false);
    expect(`${list.stdout}${list.stderr}${json.stdout}`).not.toContain(token);
  });

  it('refuses a duplicate name, a bad role, a bad duration, --tasks on a viewer: one line, exit 2', () => {
    const dir = project();
    expect(cli(['token', 'create', 'ci', '--role', 'viewer'], { cwd: dir }).code).toBe(0);
    const cases: [string[], string][] = [
      [['ci', '--role', 'viewer'], 'a token named "ci" exists already'],
      [['web', '--role', 'root'], '--role expects viewer, operator, admin, got "root"'],
      [['web', '--role', 'viewer', '--expires', 'soon'], '--expires expects a duration such as 30d'],
      [['web', '--role', 'viewer', '--tasks', 'backup'], '--tasks limits what an operator token may act on'],
      [['web', '--role', 'operator', '--tasks', 'bakup'], 'no task or watch named "bakup"'],
      [['web'], 'token create needs --role'],
    ];
    for (const [args, message] of cases) {
      const r = cli(['token', 'create', ...args], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
    const json = cli(['token', 'create', 'ci', '--role', 'viewer', '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({
      exitCode: 2,
      error: expect.stringContaining('exists already'),
    });
  });

  it('warns in token list and status of a token that expires within 7 days', () => {
    const dir = project();
    expect(cli(['token', 'create', 'soon', '--role', 'viewer', '--expires', '3d'], { cwd: dir }).code).toBe(
      0,
    );
    expect(cli(['token', 'create', 'later', '--role', 'viewer', '--expires', '8d'], { cwd: dir }).code).toBe(
      0,
    );
    const list = cli(['token', 'list'], { cwd: dir });
    expect(list.stdout).toMatch(/^soon .*\(EXPIRES SOON\)/m);
    expect(list.stdout).not.toMatch(/^later .*EXPIRES SOON/m);
    expect(list.stderr).toMatch(/^warning: a token expires within 7 days: soon \(in 2d 23h\)/m);
    const status = cli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^tokens: a token expires within 7 days: soon \(in 2d 23h\)/m);
    const json = JSON.parse(cli(['status', '--json'], { cwd: dir }).stdout) as {
      expiringTokens: { name: string }[];
    };
    expect(json.expiringTokens.map((t) => t.name)).toEqual(['soon']);
    // Revoked, it is no longer a warning.
    expect(cli(['token', 'revoke', 'soon'], { cwd: dir }).code).toBe(0);
    expect(cli(['status'], { cwd: dir }).stdout).not.toContain('tokens:');
  });

  it('revoke: then listed as revoked; an unknown name is exit 2; audit shows each change with the Unix user', () => {
    const dir = project();
    expect(cli(['token', 'create', 'ci', '--role', 'admin'], { cwd: dir }).code).toBe(0);
    const r = cli(['token', 'revoke', 'ci'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('token "ci" revoked');
    expect(cli(['token', 'revoke', 'ci'], { cwd: dir }).stdout).toContain('was already revoked');
    const unknown = cli(['token', 'revoke', 'nobody'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(
      'caretaker: no token named "nobody" (caretaker token list shows them)',
    );
    expect(cli(['token', 'list'], { cwd: dir }).stdout).toMatch(
      /^ci\s+admin\s+all\s+never\s+never\s+\d{4}-\d\d-\d\dT/m,
    );

    const audit = JSON.parse(cli(['audit', '--json'], { cwd: dir }).stdout) as Record<string, unknown>[];
    const actor = `unix:${userInfo().username}`;
    expect(audit.map((a) => [a.actor, a.source, a.action, a.target, a.outcome])).toEqual([
      [actor, 'cli', 'token.revoke', 'nobody', 'failed'],
      [actor, 'cli', 'token.revoke', 'ci', 'ok'],
      [actor, 'cli', 'token.revoke', 'ci', 'ok'],
      [actor, 'cli', 'token.create', 'ci', 'ok'],
    ]);
    const text = cli(['audit', '--since', '1h'], { cwd: dir });
    expect(text.stdout).toMatch(/token\.create\s+ci\s+ok\s+role admin/);
    const bad = cli(['audit', '--since', 'yesterday'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'caretaker: --since expects a duration such as 7d, 24h or 2w, got "yesterday"',
    );
  });

  it('a change made by the CLI without a daemon (run-task) is audited as the Unix user; reads are not', () => {
    const dir = project();
    expect(cli(['run-task', 'backup'], { cwd: dir }).code).toBe(0);
    expect(cli(['run-task', 'nope'], { cwd: dir }).code).toBe(2);
    for (const read of [['history'], ['list-tasks'], ['status'], ['token', 'list'], ['audit']])
      expect(cli(read, { cwd: dir }).code, read.join(' ')).toBe(0);
    const audit = JSON.parse(cli(['audit', '--json'], { cwd: dir }).stdout) as Record<string, unknown>[];
    expect(audit.map((a) => [a.actor, a.source, a.action, a.target, a.outcome])).toEqual([
      [`unix:${userInfo().username}`, 'cli', 'run', 'nope', 'failed'],
      [`unix:${userInfo().username}`, 'cli', 'run', 'backup', 'ok'],
    ]);
    expect(audit[1]!.detail).toMatch(/^run #\d+$/);
  });
});
