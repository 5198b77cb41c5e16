/**
 * caretaker as PID 1 (a container without an init): it hands PID 1 to a /bin/sh that reaps
 * orphans, forwards signals and passes on the exit code — or, on a Node without
 * process.execve, says once that it cannot.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAPER_ENV, reapOrphansAsPid1 } from '../../src/os/pid1-reaper.js';
import { BIN } from '../support/cli.js';
import { nodeWithExecve, pidNamespaceUnavailable, runAsPid1 } from '../support/pid-namespace.js';
import { tempDir } from '../support/tmp.js';

const DIST = resolve(import.meta.dirname, '..', '..', 'dist');
const ORPHANS = resolve(import.meta.dirname, '..', 'support', 'pid1-orphans.mjs');

interface Report {
  pid: number;
  ppid: number;
  outcome: string;
  env: string | null;
  zombies?: string[];
  ready?: boolean;
  got?: string;
}

describe('reapOrphansAsPid1 decides', () => {
  const calls: unknown[][] = [];
  const execve = (...args: unknown[]) => void calls.push(args);

  it('does nothing unless it is PID 1 on Linux and not already the reaper’s child', () => {
    const warn = (m: string) => void calls.push(['warn', m]);
    expect(reapOrphansAsPid1({ pid: 42, platform: 'linux', env: {}, execve, warn })).toBe('not-needed');
    expect(reapOrphansAsPid1({ pid: 1, platform: 'darwin', env: {}, execve, warn })).toBe('not-needed');
    expect(reapOrphansAsPid1({ pid: 1, platform: 'linux', env: { [REAPER_ENV]: '1' }, execve, warn })).toBe(
      'not-needed',
    );
    expect(calls).toEqual([]);
  });

  it('re-executes /bin/sh with the same node command line, marked so it never loops', () => {
    calls.length = 0;
    reapOrphansAsPid1({
      pid: 1,
      platform: 'linux',
      env: { A: 'b' },
      argv: ['/usr/bin/node', 'main.js', 'start'],
      execve,
    });
    const [file, args, env] = calls[0] as [string, string[], NodeJS.ProcessEnv];
    expect(file).toBe('/bin/sh');
    expect(args.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(args.slice(3)).toEqual(['caretaker-init', '/usr/bin/node', 'main.js', 'start']);
    expect(env).toEqual({ A: 'b', [REAPER_ENV]: '1' });
  });

  it('warns once, clearly, when Node has no execve or the exec fails', () => {
    const warnings: string[] = [];
    const warn = (m: string) => void warnings.push(m);
    expect(reapOrphansAsPid1({ pid: 1, platform: 'linux', env: {}, execve: undefined, warn })).toBe('warned');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/running as PID 1 without an init: .*zombies.*run the container with --init/);
    const failing = () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    };
    expect(reapOrphansAsPid1({ pid: 1, platform: 'linux', env: {}, execve: failing, warn })).toBe('warned');
    expect(warnings[1]).toMatch(/cannot start \/bin\/sh as a reaper: ENOENT/);
  });
});

/**
 * A preload (NODE_OPTIONS=--import) that records which node process ends normally: its pid and
 * whether it is the reaper's child. A process replaced by execve runs no exit handler.
 */
function exitProbe(dir: string): {
  env: NodeJS.ProcessEnv;
  exits: () => { pid: number; reaper: string | null }[];
} {
  const out = join(dir, 'exits.jsonl');
  const probe = join(dir, 'exit-probe.mjs');
  writeFileSync(
    probe,
    `import { appendFileSync } from 'node:fs';\n` +
      `process.on('exit', () => appendFileSync(${JSON.stringify(out)}, JSON.stringify({ pid: process.pid, reaper: process.env.${REAPER_ENV} ?? null }) + '\\n'));\n`,
  );
  return {
    env: { NODE_OPTIONS: `--import=${probe}` },
    exits: () =>
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pid: number; reaper: string | null }),
  };
}

const noPidNamespace = pidNamespaceUnavailable();
const withExecve = noPidNamespace ? { why: noPidNamespace } : nodeWithExecve();
const node22 = 'node' in withExecve ? withExecve.node : '';

describe.skipIf(noPidNamespace || !node22)('as PID 1 of a PID namespace, on a Node with execve', () => {
  it('leaves no zombie of an orphan behind, and exits with caretaker’s code', async () => {
    const r = await runAsPid1(node22, [ORPHANS, DIST, 'orphans'], { env: { EXIT_CODE: '7' } });
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toMatchObject({ ppid: 1, outcome: 'not-needed', env: '1' }); // the sh is PID 1 now
    expect(report.pid).not.toBe(1);
    expect(report.zombies).toEqual([]);
    expect(r.code).toBe(7);
  });

  it('the same program without the reaper does leave zombies (the test can see them)', async () => {
    const r = await runAsPid1(node22, [ORPHANS, DIST, 'orphans'], { env: { [REAPER_ENV]: '1' } });
    const report = JSON.parse(r.stdout) as Report;
    expect(report.pid).toBe(1);
    expect(report.zombies).toEqual(['sleep', 'sleep']);
  });

  it('forwards SIGTERM to caretaker', async () => {
    let sent = false;
    const r = await runAsPid1(node22, [ORPHANS, DIST, 'wait-term'], {
      env: { EXIT_CODE: '0' },
      onStdout: (out, outerPid1) => {
        if (!sent && out.includes('"ready":true')) {
          sent = true;
          process.kill(outerPid1(), 'SIGTERM'); // to the namespace's PID 1: the reaper shell
        }
      },
    });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Report);
    expect(lines.at(-1)).toMatchObject({ got: 'SIGTERM', ppid: 1 });
    expect(r.code).toBe(0);
  });

  it('the CLI hands PID 1 to the reaper for `start` and passes on exit code 2 of a bad config', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\ntasks:\n  a: { action: shel }\n');
    const probe = exitProbe(dir);
    const r = await runAsPid1(node22, [BIN, 'start', '-c', join(dir, 'caretaker.yaml')], { env: probe.env });
    expect(r.stderr).toMatch(/caretaker\.yaml:3:\d+: tasks\.a\.action: unknown action "shel"/);
    expect(r.stderr).not.toMatch(/PID 1/);
    expect(r.code).toBe(2);
    // One node ended normally, and it was the reaper's child, not PID 1 (which became /bin/sh).
    const exits = probe.exits();
    expect(exits).toHaveLength(1);
    expect(exits[0]!.reaper).toBe('1');
    expect(exits[0]!.pid).not.toBe(1);
  });
});

const noExecve = typeof (process as { execve?: unknown }).execve !== 'function';

describe.skipIf(noPidNamespace || !noExecve)('as PID 1 of a PID namespace, on a Node without execve', () => {
  it('`caretaker start` warns once that it runs without an init, then goes on', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\ntasks:\n  a: { action: shel }\n');
    const probe = exitProbe(dir);
    const r = await runAsPid1(process.execPath, [BIN, 'start', '-c', join(dir, 'caretaker.yaml')], {
      env: probe.env,
    });
    expect(probe.exits()).toEqual([{ pid: 1, reaper: null }]); // it stayed PID 1
    const warnings = r.stderr.split('\n').filter((l) => /PID 1/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^caretaker: warning: running as PID 1 without an init: .*--init/);
    expect(r.stderr).toMatch(/unknown action "shel"/);
    expect(r.code).toBe(2);
  });
});
