/**
 * The commands as a user runs them (the built binary): health, ping, report, export, validate
 * of the alerting sections, and the alert sent when caretaker cannot start.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeStartFailure } from '../../src/engine/start-failure-incident.js';
import type { AlertEvent } from '../../src/notify/types.js';
import { cli } from '../support/cli.js';
import { closedPort, tcpListener } from '../support/loopback-servers.js';
import { tempDir } from '../support/tmp.js';

function project(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'caretaker.yaml'), yaml);
  return dir;
}

describe('caretaker health', () => {
  it('prints the report and exits 0 on ok/warn, 1 on fail; saves the report', async () => {
    const up = await tcpListener();
    const down = await closedPort();
    const dir = project(`version: 1
tasks:
  web:
    action: health
    with:
      tcp: [{ name: db, port: ${up.port} }]
      command: [{ name: queue, command: "echo queue long; exit 1", warn_codes: [1] }]
  edge:
    action: health
    with:
      tcp: { name: cache, port: ${down} }
  cleanup: { action: shell, with: { command: "true" } }
`);
    const ok = cli(['health', 'web'], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^web \(run #1\): 2 checks: 1 ok, 1 warn, 0 fail/);
    expect(ok.stdout).toMatch(/^ {2}WARN {2}command queue: exit 1 after .*: queue long$/m);
    expect(ok.stdout).toMatch(/^overall: WARN \(1 ok, 1 warn, 0 fail\)$/m);

    const all = cli(['health', '--json'], { cwd: dir });
    expect(all.code).toBe(1);
    const report = JSON.parse(all.stdout) as {
      status: string;
      runs: { task: string; checks: { name: string; status: string }[] }[];
    };
    expect(report.status).toBe('fail');
    expect(report.runs.map((r) => r.task).sort()).toEqual(['edge', 'web']);
    expect(report.runs.find((r) => r.task === 'edge')!.checks[0]).toMatchObject({
      name: 'cache',
      status: 'fail',
    });
    expect(
      readdirSync(join(dir, '.caretaker', 'reports')).filter((f) => f.startsWith('health-')).length,
    ).toBeGreaterThanOrEqual(2);

    const wrong = cli(['health', 'cleanup'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toBe('caretaker: task "cleanup" is a shell task, not a health task');
  });
});

describe('caretaker ping, report and export', () => {
  it('records pings, shows them in status, and refuses unknown names', () => {
    const dir = project(`version: 1
watch:
  offsite-sync: { expect: every 1h, grace: 10m }
tasks:
  noop: { action: shell, with: { command: "echo hi" } }
`);
    expect(cli(['ping', 'offsite-sync', '--message', 'synced'], { cwd: dir }).code).toBe(0);
    const bad = cli(['ping', 'offsite-snyc'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'caretaker: unknown watch "offsite-snyc" (did you mean "offsite-sync"?); watches: offsite-sync',
    );
    const failed = cli(['ping', 'offsite-sync', '--fail', '--json'], { cwd: dir });
    expect(JSON.parse(failed.stdout)).toMatchObject({ name: 'offsite-sync', ok: false, source: 'cli' });
    const status = cli(['status'], { cwd: dir });
    expect(status.stdout).toMatch(/^offsite-sync +failing +FAIL (now|[\d.]+s ago) +in 1h (9|10)m$/m);
  });

  it('exports history, metrics and incidents as CSV and Markdown, and writes the summary report', () => {
    const dir = project(`version: 1
tasks:
  good: { action: shell, with: { command: "echo fine" } }
  bad: { action: shell, with: { command: "echo 'boom, with a comma'; exit 3" } }
`);
    cli(['run-task', 'good'], { cwd: dir });
    cli(['run-task', 'bad'], { cwd: dir });
    const ex = cli(['export', '--format', 'csv,md', '--output', 'out', '--days', '7'], { cwd: dir });
    expect(ex.stderr).toBe('');
    expect(ex.code).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual([
      'history.csv',
      'history.md',
      'incidents.csv',
      'incidents.md',
      'metrics.csv',
      'metrics.md',
    ]);
    const csv = readFileSync(join(dir, 'out', 'history.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe(
      'id,task,host,status,trigger,attempt,dry_run,queued_at,started_at,finished_at,duration_ms,exit_code,changed,bytes_freed,files_modified,issues_found,issues_fixed,summary,reason',
    );
    expect(csv[1]).toMatch(/^1,good,.*,success,manual,1,false,/);
    expect(csv[2]).toMatch(
      /^2,bad,.*,failed,manual,1,false,.*,3,true,,,,,exit 3 after [^,]+,exit 3 after [^,]+$/,
    );
    expect(readFileSync(join(dir, 'out', 'metrics.md'), 'utf8')).toMatch(
      /^# metrics \(last 7 days\)\n\n\| task \| runs \|/,
    );

    const bad = cli(['export', '--format', 'xml', '--output', 'out'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'caretaker: --format expects csv, json or md (or a list such as csv,md), got "xml"',
    );
    expect(cli(['export', '--output', '.caretaker/x'], { cwd: dir }).stderr).toMatch(
      /caretaker's own state dir/,
    );

    const report = cli(['report', '--days', '7'], { cwd: dir });
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^\*\*2 runs, 50\.0% succeeded, 1 failed; 0B freed\.\*\*$/m);
    expect(report.stdout).toMatch(/^- \*\*bad\*\* run #2 failed at .*: exit 3 after/m);
    expect(report.stdout).toContain('boom, with a comma');
    const json = JSON.parse(cli(['report', '--json'], { cwd: dir }).stdout) as { totals: { runs: number } };
    expect(json.totals.runs).toBe(2);
  });
});

describe('configuration of alerts', () => {
  it('reports every mistake in notify, alerts and watch with its position', () => {
    const dir = project(`version: 1
notify:
  - { type: webhook, on: [failure, recovry] }
  - { type: email, smtp: "smtp://user:secret@mail.example:25", to: ops@example.org }
  - { type: slack, url: "https://hooks.slack.example/x", tasks: [bakup] }
alerts:
  quiet_hours: { hours: "0-23" }
watch:
  sync: { expect: every soon }
tasks:
  backup: { action: shell, with: { command: "true" } }
`);
    const r = cli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/caretaker\.yaml:3:5: notify\.0: a webhook channel needs url or url_env$/),
      expect.stringMatching(
        /caretaker\.yaml:3:\d+: notify\.0\.on\.1: expected one of .* got "recovry" \(did you mean "recovery"\?\)$/,
      ),
      expect.stringMatching(
        /caretaker\.yaml:4:\d+: notify\.1\.smtp: expected smtp:\/\/host:port or smtps:\/\/host:port, without a user or password/,
      ),
      expect.stringMatching(
        /caretaker\.yaml:5:\d+: notify\.2\.tasks\.0: unknown task or watch "bakup" \(did you mean "backup"\?\)$/,
      ),
      expect.stringMatching(
        /caretaker\.yaml:7:\d+: alerts\.quiet_hours\.hours: quiet hours cover every hour of the week/,
      ),
      expect.stringMatching(
        /caretaker\.yaml:9:\d+: watch\.sync\.expect: .*after "every" expected a duration/,
      ),
      '6 problems found',
    ]);
  });
});

describe('a caretaker that cannot start', () => {
  it('still fires the configured command alert when the config is broken', () => {
    const dir = project(`version: 1
notify:
  - { type: command, command: "cat > start-failure.json" }
tasks:
  backup: { action: shell, schedule: "61 * * * *", with: { command: "true" } }
`);
    onTestFinished(() => void closeStartFailure(join(dir, 'caretaker.yaml'), join(dir, '.caretaker')));
    const r = cli(['start'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/caretaker\.yaml:5:\d+: tasks\.backup\.schedule: /);
    expect(r.stderr).toMatch(/start failure reported through command/);
    expect(existsSync(join(dir, 'start-failure.json'))).toBe(true);
    const ev = JSON.parse(readFileSync(join(dir, 'start-failure.json'), 'utf8')) as AlertEvent;
    expect(ev.event).toBe('start_failure');
    expect(ev.severity).toBe('critical');
    expect(ev.message).toMatch(
      /^caretaker could not start with .*caretaker\.yaml:\n.*tasks\.backup\.schedule/,
    );
  });

  it('alerts once per incident: a restart loop pages once, a start that succeeds closes it', () => {
    const broken = `version: 1
notify:
  - { type: command, command: "cat >> alerts.jsonl; echo >> alerts.jsonl", on: [start_failure] }
tasks:
  backup: { action: shell, schedule: "61 * * * *", with: { command: "true" } }
`;
    const dir = project(broken);
    onTestFinished(() => void closeStartFailure(join(dir, 'caretaker.yaml'), join(dir, '.caretaker')));
    const alerts = () =>
      existsSync(join(dir, 'alerts.jsonl'))
        ? readFileSync(join(dir, 'alerts.jsonl'), 'utf8')
            .split('\n')
            .filter((l) => l.trim()).length
        : 0;
    expect(cli(['start'], { cwd: dir }).stderr).toMatch(/start failure reported through command/);
    for (let i = 0; i < 3; i++) {
      const again = cli(['start'], { cwd: dir });
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/tasks\.backup\.schedule: /);
      expect(again.stderr).toMatch(
        new RegExp(
          `caretaker: start failure already reported .* \\(failed ${i + 2} times since .*\\); not alerting again for 5h 59m`,
        ),
      );
      expect(again.stderr).not.toMatch(/reported through command/);
    }
    expect(alerts()).toBe(1);

    // Fixed: it starts, which closes the incident; the next failure is a new one and alerts.
    writeFileSync(join(dir, 'caretaker.yaml'), broken.replace('"61 * * * *"', '"@daily"'));
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    expect(cli(['stop'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'caretaker.yaml'), broken);
    expect(cli(['start'], { cwd: dir }).stderr).toMatch(/start failure reported through command/);
    expect(alerts()).toBe(2);
  });
});
