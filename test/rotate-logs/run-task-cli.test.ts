/**
 * rotate-logs through the real `caretaker` binary: `run-task` forces the rotation like
 * `logrotate -f`, `--dry-run` lists the plan, and a CLI killed in the middle of a rotation is
 * finished by the next `run-task`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { readTree } from '../support/rotate.js';
import { tempDir } from '../support/tmp.js';

function project(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'api.log'), 'GET /health 200\n'.repeat(5000));
  writeFileSync(join(dir, 'logs', 'api.log.1'), 'yesterday\n');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1
tasks:
  rotate-api-logs:
    description: Rotate the API's logs
    action: rotate-logs
    schedule: "0 2 * * *"
    with:
      paths: logs/*.log
      frequency: daily
      rotate: 7
      compress: true
      delaycompress: true
      create: { mode: "0640" }
`,
  );
  return dir;
}

describe('caretaker run-task with rotate-logs', () => {
  it('forces a rotation that frequency would not allow yet, and lists the plan in a dry run', () => {
    const dir = project();
    const dry = cli(['run-task', 'rotate-api-logs', '--wait', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would: compress ${dir}/logs/api.log.1 -> ${dir}/logs/api.log.1.gz`);
    expect(dry.stdout).toContain(
      `would: move ${dir}/logs/api.log -> ${dir}/logs/api.log.1 and create a new empty`,
    );
    const run = cli(['run-task', 'rotate-api-logs', '--wait'], { cwd: dir });
    expect(run.stdout).toMatch(
      /run #2 of rotate-api-logs: success .*\nrotated 1 log, compressed 1 \(10B -> /,
    );
    expect(run.code).toBe(0);
    expect(Object.keys(readTree(join(dir, 'logs')))).toEqual(['api.log', 'api.log.1', 'api.log.2.gz']);
  });

  it('prints the one step of a one-step dry run, in the singular', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'x\n');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  rot:\n    action: rotate-logs\n    with: { paths: [logs/app.log], rotate: 3 }\n  sh:\n    action: shell\n    with: { command: "true" }\n',
    );
    const dry = cli(['run-task', 'rot', '--wait', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').slice(1, 3)).toEqual([
      'would rotate 1 of 1 log in 1 step',
      `  would: rename ${dir}/logs/app.log -> ${dir}/logs/app.log.1`,
    ]);
    // A step that only repeats the summary is not printed twice.
    const sh = cli(['run-task', 'sh', '--wait', '--dry-run'], { cwd: dir });
    expect(sh.stdout.trim().split('\n').slice(1)).toEqual(['would run: true']);
  });

  it('finishes a rotation whose process was killed half-way', () => {
    const dir = project();
    const killed = cli(['run-task', 'rotate-api-logs', '--wait'], {
      cwd: dir,
      env: { CARETAKER_FAULT: 'rotate:step:4' },
    });
    expect(killed.code).toBe(-1); // SIGKILL
    expect(killed.stderr).toContain('CARETAKER_FAULT: killed at rotate:step 4');
    const again = cli(['run-task', 'rotate-api-logs', '--wait'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/finished \d+ steps of an interrupted rotation/);
    const tree = readTree(join(dir, 'logs'));
    expect(tree['api.log.2.gz']).toBe('yesterday\n');
    expect(Object.values(tree).join('').split('GET /health 200\n').length - 1).toBe(5000);
    const history = cli(['history', 'rotate-api-logs', '--json'], { cwd: dir });
    const runs = JSON.parse(history.stdout) as {
      status: string;
      result: { details: { recoveredSteps: number } };
    }[];
    expect(runs[0]?.status).toBe('success');
    expect(runs[0]?.result.details.recoveredSteps).toBeGreaterThan(0);
  });
});
