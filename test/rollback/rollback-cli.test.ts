import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const CONFIG = `version: 1
state_dir: state
tasks:
  edit:
    action: shell
    rollback: { paths: [conf] }
    with:
      command: "echo 'listen 9090' > conf/app.conf && echo extra > conf/new.conf"
`;

function project(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf', 'app.conf'), 'listen 8080\n');
  writeFileSync(join(dir, 'caretaker.yaml'), CONFIG);
  return dir;
}

describe('caretaker list-rollbacks and rollback', () => {
  it('lists points, previews and performs a rollback, and records it in history', () => {
    const dir = project();
    const ran = cli(['run-task', 'edit', '--wait'], { cwd: dir });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/rollback point rb-1: 1 file, 12 new bytes stored/);

    const listed = cli(['list-rollbacks'], { cwd: dir });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^POINT\s+TASK\s+KIND\s+TAKEN\s+FILES\s+SIZE\s+GIT\s+RESTORED\n/);
    expect(listed.stdout).toMatch(/\nrb-1\s+edit\s+task\s+\S+( ago)?\s+1\s+12B\s+-\s+-/);

    const noReason = cli(['rollback', 'rb-1'], { cwd: dir });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr.trim()).toBe(
      'caretaker: rollback needs --reason TEXT: why the files are being restored (kept in history)',
    );
    const unknown = cli(['rollback', 'rb-9', '--reason', 'x'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('caretaker: no rollback point rb-9; see caretaker list-rollbacks');
    const badId = cli(['rollback', 'yesterday', '--reason', 'x'], { cwd: dir });
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/"yesterday" is not a rollback point id; expected rb-N/);

    const dry = cli(['rollback', 'rb-1', '--reason', 'preview', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would: delete ${join(dir, 'conf', 'new.conf')} (created after the point)`);
    expect(dry.stdout).toContain(`would: restore ${join(dir, 'conf', 'app.conf')}`);
    expect(readFileSync(join(dir, 'conf', 'app.conf'), 'utf8')).toBe('listen 9090\n');

    const done = cli(['rollback', '1', '--reason', 'the new port broke the proxy'], { cwd: dir });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /^rolled back to rb-1: 1 restored, 1 deleted, 0 directories recreated, 1 unchanged\n/,
    );
    expect(done.stdout).toContain('to undo this rollback: caretaker rollback rb-2 --reason "..."');
    expect(readFileSync(join(dir, 'conf', 'app.conf'), 'utf8')).toBe('listen 8080\n');
    expect(readdirSync(join(dir, 'conf'))).toEqual(['app.conf']);

    // Audited as from the API and the dashboard: the point's task is the target, the point and
    // the run that recorded the restore are in the detail ("1" named point rb-1).
    const audit = JSON.parse(cli(['audit', '--json'], { cwd: dir }).stdout) as {
      action: string;
      target: string;
      outcome: string;
      detail: string;
      source: string;
    }[];
    // Refused ones name what was given, there being no point (and no task) to name.
    expect(audit.filter((a) => a.action === 'rollback').map((a) => [a.outcome, a.target])).toEqual([
      ['ok', 'edit'],
      ['failed', 'yesterday'],
      ['failed', 'rb-9'],
    ]);
    expect(audit.find((a) => a.action === 'rollback' && a.outcome === 'ok')).toMatchObject({
      source: 'cli',
      detail: expect.stringMatching(/^rb-1, run #\d+ of edit; reason: the new port broke the proxy$/),
    });

    const history = cli(['history', 'edit', '--json'], { cwd: dir });
    const runs = JSON.parse(history.stdout) as { trigger: string; reason: string; status: string }[];
    expect(runs[0]).toMatchObject({
      trigger: 'rollback',
      status: 'success',
      reason: 'rollback to rb-1: the new port broke the proxy',
    });

    const json = JSON.parse(cli(['list-rollbacks', '--task', 'edit', '--json'], { cwd: dir }).stdout) as {
      id: string;
      kind: string;
      restores: { reason: string }[];
    }[];
    expect(json.map((p) => [p.id, p.kind])).toEqual([
      ['rb-2', 'pre-rollback'],
      ['rb-1', 'task'],
    ]);
    expect(json[1]!.restores[0]!.reason).toBe('the new port broke the proxy');
  });

  it('refuses a damaged point with one line and exit 1', () => {
    const dir = project();
    expect(cli(['run-task', 'edit', '--wait'], { cwd: dir }).code).toBe(0);
    const blobs = join(dir, 'state', 'rollback', 'blobs');
    const [prefix] = readdirSync(blobs).filter((d) => /^[0-9a-f]{2}$/.test(d));
    const [rest] = readdirSync(join(blobs, prefix!));
    const blob = join(blobs, prefix!, rest!);
    chmodSync(blob, 0o600);
    writeFileSync(blob, 'tampered\n');
    const r = cli(['rollback', 'rb-1', '--reason', 'x'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^caretaker: rollback point rb-1 is damaged and was not restored; nothing was changed\\. Bad: ${join(dir, 'conf', 'app.conf')} \\(its copy .* is corrupt: checksum mismatch\\)`,
      ),
    );
    expect(readFileSync(join(dir, 'conf', 'app.conf'), 'utf8')).toBe('listen 9090\n');
  });

  it('deletes points older than --rollback-days and the files only they kept', async () => {
    const dir = project();
    const old = createCaretaker({
      configPath: join(dir, 'caretaker.yaml'),
      clock: new ManualClock(Date.now() - 10 * 86_400_000),
    });
    await old.runNow('edit');
    await old.close();
    writeFileSync(join(dir, 'conf', 'app.conf'), 'listen 7070\n');
    expect(cli(['run-task', 'edit', '--wait'], { cwd: dir }).code).toBe(0);

    const r = cli(['cleanup', '--rollback-days', '5'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      'deleted 1 rollback point older than 5 days (rb-1); 1 stored file no longer needed, 12B freed',
    );
    const left = JSON.parse(cli(['list-rollbacks', '--json'], { cwd: dir }).stdout) as { id: string }[];
    expect(left.map((p) => p.id)).toEqual(['rb-2']);
    expect(cli(['cleanup'], { cwd: dir }).code).toBe(2);
  });
});
