/**
 * caretaker in CI: `run-task --format github` (or a GitHub Actions job) prints a run's findings as
 * workflow annotations and appends a line to the job summary; `init --preset ci` writes the
 * repository-upkeep tasks.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubAnnotations } from '../../src/report/github-annotations.js';
import type { RunRecord } from '../../src/store/types.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const CHECK_MODULE = `
export async function run() {
  return {
    success: false,
    summary: '2 problems',
    issuesFound: 2,
    warnings: ['one rule is deprecated'],
    findings: [
      { severity: 'error', file: 'src/app.ts', line: 3, column: 7, title: 'eslint no-unused-vars', message: "'x' is assigned a value but never used" },
      { severity: 'warning', file: 'docs/a,b.md', line: 12, message: 'broken link: c.md\\n(no such file)' },
    ],
  };
}
`;

function ciRepo(): string {
  const dir = tempDir('ct-ci-');
  writeFileSync(join(dir, 'check.mjs'), CHECK_MODULE);
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    [
      'version: 1',
      'tasks:',
      '  lint: { action: module, with: { path: check.mjs, export: run } }',
      '  fine: { action: shell, with: { command: "echo all good" } }',
      '  boom: { action: shell, with: { command: "echo failing; exit 3" } }',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('run-task in GitHub Actions', () => {
  it('prints each finding as an annotation at its file and line, relative to the workspace', () => {
    const dir = ciRepo();
    const summary = join(dir, 'step-summary.md');
    const r = cli(['run-task', 'lint', '--wait'], {
      cwd: dir,
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(1);
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(annotations).toEqual([
      "::error file=src/app.ts,line=3,col=7,title=caretaker lint%3A eslint no-unused-vars::'x' is assigned a value but never used",
      '::warning file=docs/a%2Cb.md,line=12,title=caretaker lint::broken link: c.md%0A(no such file)',
      '::warning title=caretaker lint::one rule is deprecated',
      '::error title=caretaker lint failed::run #1 failed: 2 problems',
    ]);
    // The human-readable run is still there, above the annotations.
    expect(r.stdout).toMatch(/^run #1 of lint: failed in /);
    expect(readFileSync(summary, 'utf8')).toBe('❌ **lint** failed: 2 problems\n');
  });

  it('a successful run adds no annotation; a failed command names its status and output', () => {
    const dir = ciRepo();
    const ok = cli(['run-task', 'fine', '--wait', '--format', 'github'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toMatch(/^::/m);

    const failed = cli(['run-task', 'boom', '--wait', '--format', 'github'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(
      /^::error title=caretaker boom failed::run #2 failed: .*exit(ed with)? (code )?3/m,
    );
  });

  it('outside GitHub Actions the output stays plain text, and --json still wins', () => {
    const dir = ciRepo();
    const text = cli(['run-task', 'lint', '--wait'], { cwd: dir, env: { GITHUB_ACTIONS: '' } });
    expect(text.stdout).not.toMatch(/^::/m);
    const json = cli(['run-task', 'lint', '--wait', '--json'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
    expect(JSON.parse(json.stdout).result.findings).toHaveLength(2);
  });

  it('paths outside the workspace stay absolute; long lists end in a notice', () => {
    const findings = Array.from({ length: 52 }, (_, i) => ({
      severity: 'error' as const,
      file: `/elsewhere/f${i}.ts`,
      line: i + 1,
      message: `problem ${i}`,
    }));
    const run = {
      id: 9,
      task: 't',
      status: 'failed',
      dryRun: false,
      reason: null,
      result: { ok: false, summary: '52 problems', findings },
    } as unknown as RunRecord;
    const lines = githubAnnotations(run, { baseDir: '/repo', workspace: '/repo' });
    expect(lines[0]).toBe('::error file=/elsewhere/f0.ts,line=1,title=caretaker t::problem 0');
    expect(lines[50]).toBe(
      "::notice title=caretaker t::2 more findings; see the run's details (caretaker history t --json)",
    );
    expect(lines).toHaveLength(52);
  });
});

describe('init --preset ci', () => {
  it('writes the four repository-upkeep tasks and none of a service host', () => {
    const dir = tempDir('ct-ci-init-');
    const r = cli(['init', '--preset', 'ci'], { cwd: dir });
    expect(r.code).toBe(0);
    const text = readFileSync(join(dir, 'caretaker.yaml'), 'utf8');
    expect(text).toMatch(/^# caretaker\.yaml — maintenance tasks for this repository \(preset: ci\)/);
    const ids = [...text.matchAll(/^ {2}(?:# )?([a-z-]+):$/gm)].map((m) => m[1]);
    expect(ids).toEqual(['code-quality', 'test-health', 'docs-check', 'license-check']);
    const validate = cli(['validate'], { cwd: dir });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
  });
});

describe('a pre-commit hook that runs a task (docs/ci.md)', () => {
  it('refuses a commit while docs-check fails and accepts it once the link is fixed', () => {
    const dir = tempDir('ct-hook-');
    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CARETAKER_CONFIG: '' },
      });
    git('init', '-q');
    writeFileSync(join(dir, '.gitignore'), '.caretaker/\n');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  docs-check: { action: docs-check, with: { paths: ["**/*.md"] } }\n',
    );
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'setup.md'), '# Setup\n\n## Install\n');
    writeFileSync(join(dir, 'README.md'), '# demo\n\nSee [install](docs/setup.md#installing).\n');
    // The hook of docs/ci.md, with the built binary in place of `npx caretaker`.
    const hook = join(dir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" run-task docs-check --wait\n`);
    chmodSync(hook, 0o755);

    git('add', '-A');
    const refused = git('commit', '-q', '-m', 'docs');
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(
      /README\.md:3: docs\/setup\.md#installing — no heading or anchor #installing/,
    );
    expect(git('rev-parse', '--verify', '-q', 'HEAD').status).not.toBe(0); // nothing committed

    writeFileSync(join(dir, 'README.md'), '# demo\n\nSee [install](docs/setup.md#install).\n');
    git('add', '-A');
    const accepted = git('commit', '-q', '-m', 'docs');
    expect(accepted.status, accepted.stdout + accepted.stderr).toBe(0);
    expect(git('log', '--oneline').stdout.trim().split('\n')).toHaveLength(1);
  });
});
