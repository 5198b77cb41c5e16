import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import type { Caretaker } from '../../src/caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { fingerprint } from '../support/tree.js';
import { tempDir } from '../support/tmp.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
    },
  }).trim();
}

/** A git working tree with tracked, modified and untracked files, nested directories and a link. */
function makeRepo(dir: string): string {
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'config', 'nested'), { recursive: true });
  writeFileSync(join(repo, 'config', 'app.yaml'), 'port: 8080\nworkers: 4\n');
  writeFileSync(join(repo, 'config', 'nested', 'db.json'), '{"pool": 10}\n');
  writeFileSync(join(repo, 'README.md'), '# app\n');
  writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(repo, 'run.sh'), 0o755);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'initial');
  appendFileSync(join(repo, 'README.md'), 'local edit, not committed\n'); // dirty tree
  writeFileSync(join(repo, 'notes.txt'), 'untracked\n');
  execFileSync('ln', ['-s', 'config/app.yaml', join(repo, 'current.yaml')]);
  return repo;
}

/** Edits, creates, deletes, chmods and relinks files in the repo, then exits with `code`. */
const MESS = (code: number) =>
  [
    'set -e',
    'cd repo',
    'echo "port: 9090" > config/app.yaml',
    'rm config/nested/db.json',
    'rm -r config/nested',
    'echo new > created.txt',
    'mkdir -p made/deeper && echo x > made/deeper/file.txt',
    'chmod 600 run.sh',
    'rm notes.txt',
    'ln -sf README.md current.yaml',
    `exit ${code}`,
  ].join('\n');

function open(dir: string, tasks: string, top = '', clock = new ManualClock(Date.now())): Caretaker {
  return createCaretaker({
    configText: `version: 1\nstate_dir: state\n${top}\ntasks:\n${tasks}`,
    baseDir: dir,
    clock,
    host: 'test-host',
  });
}

describe('rollback points around a task', () => {
  it('restores exactly the prior tree of a git working tree, and a rollback can itself be rolled back', async () => {
    const dir = tempDir();
    const repo = makeRepo(dir);
    const before = fingerprint(repo);
    const mtimeBefore = statSync(join(repo, 'config', 'app.yaml')).mtimeMs;
    const headBefore = git(repo, 'rev-parse', 'HEAD');
    const ct = open(
      dir,
      `  mess:\n    action: shell\n    rollback: { paths: [repo] }\n    with:\n      command: ${JSON.stringify(MESS(0))}\n`,
    );
    try {
      const run = await ct.runNow('mess');
      expect(run.status).toBe('success');
      const after = fingerprint(repo);
      expect(after).not.toEqual(before);
      expect(existsSync(join(repo, 'created.txt'))).toBe(true);

      const [point] = await ct.listRollbacks({ task: 'mess' });
      expect(point).toMatchObject({ id: 'rb-1', kind: 'task', task: 'mess', runId: run.id });
      expect(point!.git).toEqual([{ root: repo, head: headBefore, branch: 'main', dirty: true }]);

      const { report, run: recorded } = await ct.rollback('rb-1', { reason: 'bad config pushed' });
      expect(fingerprint(repo)).toEqual(before); // every file's checksum, mode and link target
      expect(Math.round(statSync(join(repo, 'config', 'app.yaml')).mtimeMs)).toBe(Math.round(mtimeBefore));
      expect(existsSync(join(repo, 'created.txt'))).toBe(false);
      expect(existsSync(join(repo, 'made'))).toBe(false);
      expect(existsSync(join(repo, 'config', 'nested', 'db.json'))).toBe(true);
      expect(report.deleted).toContain(join(repo, 'created.txt'));
      expect(git(repo, 'status', '--porcelain')).toBe('M README.md\n?? current.yaml\n?? notes.txt'.trim());

      // History: the rollback is a row of the task's history, with its reason; it does not count as a run.
      expect(recorded).toMatchObject({ task: 'mess', trigger: 'rollback', status: 'success' });
      expect(recorded!.reason).toBe('rollback to rb-1: bad config pushed');
      // The task's state still names its last real run: its last result is that run's.
      const [mess] = (await ct.tasks()).filter((s) => s.id === 'mess');
      expect(mess).toMatchObject({ lastStatus: run.status, lastFinishedAt: run.finishedAt });

      // The point records the restore; a pre-rollback point holds the state the rollback replaced.
      const points = await ct.listRollbacks();
      expect(points.find((p) => p.id === 'rb-1')!.restores[0]).toMatchObject({
        reason: 'bad config pushed',
        preRollbackPoint: 'rb-2',
        runId: recorded!.id,
      });
      await ct.rollback('rb-2', { reason: 'undo the rollback' });
      expect(fingerprint(repo)).toEqual(after);
    } finally {
      await ct.close();
    }
  });

  it('records a link a glob path matches, and puts it back as the link it was', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'a.yaml'), 'a: 1\n');
    writeFileSync(join(dir, 'conf', 'b.yaml'), 'b: 1\n');
    execFileSync('ln', ['-s', 'a.yaml', join(dir, 'conf', 'current')]);
    const ct = open(
      dir,
      `  switch:\n    action: shell\n    rollback: { paths: ["conf/*"] }\n    with: { command: "ln -sfn b.yaml conf/current" }\n`,
    );
    try {
      expect((await ct.runNow('switch')).status).toBe('success');
      expect(readlinkSync(join(dir, 'conf', 'current'))).toBe('b.yaml');
      await ct.rollback('rb-1', { reason: 'back to a' });
      expect(readlinkSync(join(dir, 'conf', 'current'))).toBe('a.yaml');
    } finally {
      await ct.close();
    }
  });

  it('keeps the stash of a dirty tree reachable in git while the point exists', async () => {
    const dir = tempDir();
    const repo = makeRepo(dir);
    const clock = new ManualClock(Date.now());
    const ct = open(
      dir,
      `  touch:\n    action: shell\n    rollback: { paths: [repo/config] }\n    with: { command: "true" }\n`,
      '',
      clock,
    );
    try {
      await ct.runNow('touch');
      const stash = git(repo, 'rev-parse', 'refs/caretaker/rollback/rb-1');
      expect(git(repo, 'show', `${stash}:README.md`)).toContain('local edit, not committed');
      clock.advanceTo(clock.now() + 2 * 86_400_000);
      await ct.cleanupRollbacks(1);
      expect(await ct.listRollbacks()).toEqual([]);
      expect(() => git(repo, 'rev-parse', '--verify', '--quiet', 'refs/caretaker/rollback/rb-1')).toThrow();
    } finally {
      await ct.close();
    }
  });

  it('rolls back automatically when a run with rollback: on_failure fails', async () => {
    const dir = tempDir();
    const repo = makeRepo(dir);
    const before = fingerprint(repo);
    const ct = open(
      dir,
      `  mess:\n    action: shell\n    rollback: on_failure\n    with:\n      paths: [repo]\n      command: ${JSON.stringify(MESS(3))}\n`,
    );
    try {
      const run = await ct.runNow('mess');
      expect(run.status).toBe('failed');
      expect(run.reason).toMatch(/^exit 3 after .*; rolled back to rb-1$/);
      expect(run.result?.details?.rollback).toMatchObject({ point: 'rb-1', preRollbackPoint: 'rb-2' });
      expect(run.outputTail).toMatch(
        /rolled back to rb-1: 4 restored, 4 deleted, \d+ unchanged \(undo with caretaker rollback rb-2\)/,
      );
      expect(fingerprint(repo)).toEqual(before);
    } finally {
      await ct.close();
    }
  });

  it('leaves the files alone when a run with rollback: on_failure succeeds', async () => {
    const dir = tempDir();
    const repo = makeRepo(dir);
    const ct = open(
      dir,
      `  mess:\n    action: shell\n    rollback: on_failure\n    with:\n      paths: [repo]\n      command: ${JSON.stringify(MESS(0))}\n`,
    );
    try {
      expect((await ct.runNow('mess')).status).toBe('success');
      expect(existsSync(join(repo, 'created.txt'))).toBe(true);
      expect((await ct.listRollbacks())[0]!.restores).toEqual([]);
    } finally {
      await ct.close();
    }
  });

  it('takes no point in a dry run', async () => {
    const dir = tempDir();
    makeRepo(dir);
    const ct = open(
      dir,
      `  t:\n    action: shell\n    rollback: true\n    with: { command: "true", paths: [repo] }\n`,
    );
    try {
      const run = await ct.runNow('t', { dryRun: true });
      expect(run.status).toBe('success');
      expect(run.result?.plan).toEqual([
        `take a rollback point of ${join(dir, 'repo')}`,
        `run \`true\` in ${dir}`,
      ]);
      expect(await ct.listRollbacks()).toEqual([]);
    } finally {
      await ct.close();
    }
  });

  it('refuses the state dir as a rollback path when the config is loaded', () => {
    const dir = tempDir();
    expect(() =>
      open(
        dir,
        `  t:\n    action: shell\n    rollback: { paths: [state/caretaker.db] }\n    with: { command: "touch ran" }\n`,
      ),
    ).toThrow(/tasks\.t\.rollback\.paths\.0: .*caretaker's own state dir/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('does not run the task when the point cannot be taken', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    execFileSync('mkfifo', [join(dir, 'data', 'pipe')]); // a FIFO cannot be copied into a point
    const ct = open(
      dir,
      `  t:\n    action: shell\n    rollback: { paths: [data] }\n    with: { command: "touch ran" }\n`,
    );
    try {
      const run = await ct.runNow('t');
      expect(run.status).toBe('failed');
      expect(run.reason).toMatch(
        /no rollback point could be taken, so the task did not run: .*socket, FIFO or device/,
      );
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    } finally {
      await ct.close();
    }
  });

  it('rejects rollback: true at load when the action declares no paths', () => {
    const dir = tempDir();
    try {
      open(dir, `  t:\n    action: shell\n    rollback: true\n    with: { command: "true" }\n`);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const [issue] = (err as ConfigError).issues;
      expect(issue).toMatchObject({ line: 7, column: 15, path: 'tasks.t.rollback' });
      expect(issue!.message).toMatch(/does not say which files .* or list them in with.paths/);
    }
  });

  it('refuses a point whose copy of a file was damaged, naming the file, and changes nothing', async () => {
    const dir = tempDir();
    const repo = makeRepo(dir);
    const ct = open(
      dir,
      `  mess:\n    action: shell\n    rollback: { paths: [repo] }\n    with:\n      command: ${JSON.stringify(MESS(0))}\n`,
    );
    try {
      await ct.runNow('mess');
      const after = fingerprint(repo);
      const blobs = join(dir, 'state', 'rollback', 'blobs');
      const manifest = JSON.parse(
        execFileSync('cat', [join(dir, 'state', 'rollback', 'points', 'rb-1.json')], { encoding: 'utf8' }),
      ) as { entries: { path: string; kind: string; sha256?: string }[] };
      const app = manifest.entries.find((e) => e.path.endsWith('app.yaml'))!;
      const blob = join(blobs, app.sha256!.slice(0, 2), app.sha256!.slice(2));
      chmodSync(blob, 0o600);
      writeFileSync(blob, 'port: 6666\n'); // bit rot, or someone "fixing" the backup by hand
      await expect(ct.rollback('rb-1', { reason: 'try' })).rejects.toThrow(
        new RegExp(
          `rollback point rb-1 is damaged .*${app.path.replace(/[/.]/g, '\\$&')} \\(its copy .* is corrupt`,
        ),
      );
      expect(fingerprint(repo)).toEqual(after);
      const history = await ct.history({ task: 'mess' });
      expect(history[0]).toMatchObject({ trigger: 'rollback', status: 'failed' });
      expect(history[0]!.reason).toMatch(/^rollback to rb-1 failed: rollback point rb-1 is damaged/);
    } finally {
      await ct.close();
    }
  });

  it('refuses to restore through a directory swapped for a symlink pointing elsewhere', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'sub', 'a.txt'), 'original\n');
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const ct = open(
      dir,
      `  swap:\n    action: shell\n    rollback: { paths: [data] }\n    with: { command: "rm -r data/sub && ln -s ../outside data/sub" }\n`,
    );
    try {
      expect((await ct.runNow('swap')).status).toBe('success');
      const { report } = await ct.rollback('rb-1', { reason: 'undo the swap' });
      // The link is deleted as something created after the point; the directory and file come back.
      expect(report.deleted).toEqual([join(data, 'sub')]);
      expect(readdirSync(outside)).toEqual([]);
      expect(fingerprint(data)).toMatchObject({
        sub: expect.stringMatching(/^dir /),
        'sub/a.txt': expect.any(String),
      });
    } finally {
      await ct.close();
    }
  });
});
