/**
 * Configurations that crashed the loader, slipped through it, or flooded the terminal: each is
 * now one ConfigError (exit 2) with file:line:column, and validation stays linear in the number
 * of tasks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { parseConfigText } from '../../src/config/load.js';
import { validateConfigFile } from '../../src/config/validation-report.js';
import { ConfigError, type ConfigIssue } from '../../src/errors/config-error.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const registry = loadedBuiltinRegistry();

/** The issues of a configuration that must not load (any other error fails the test). */
function issuesOf(yaml: string): readonly ConfigIssue[] {
  try {
    parseConfigText(yaml, '/tmp/caretaker.yaml', { registry });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('the configuration loaded');
}

describe('config loader: YAML aliases', () => {
  it('an alias without its anchor is an error at the alias', () => {
    expect(issuesOf('version: 1\ntasks: *nope\n')).toEqual([
      {
        file: '/tmp/caretaker.yaml',
        line: 2,
        column: 8,
        path: '',
        message: 'invalid YAML: Unresolved alias (the anchor must be set before the alias): nope',
      },
    ]);
  });

  it('more than 1,000 aliases expanded is an error with a position, not an internal error', () => {
    const yaml = `version: 1\nx: &a [1]\ny: [${Array(1100).fill('*a').join(', ')}]\ntasks: {}\n`;
    const [issue] = issuesOf(yaml);
    expect(issue).toMatchObject({ line: 3, column: 5 });
    expect(issue!.message).toMatch(/^invalid YAML: more than 1000 aliases are expanded/);
  });
});

describe('config loader: values that crashed or vanished', () => {
  it('prune-redis with match: "" is a schema error', () => {
    const issues = issuesOf(
      'version: 1\ntasks:\n  p:\n    action: prune-redis\n    with:\n      url: redis://localhost\n      match: ""\n',
    );
    expect(issues.map((i) => [i.line, i.path])).toEqual([[7, 'tasks.p.with.match']]);
  });

  it('a task named __proto__ is refused, not dropped', () => {
    const issues = issuesOf(
      'version: 1\ntasks:\n  __proto__:\n    action: shell\n    with: { command: "true" }\n',
    );
    expect(issues).toEqual([
      expect.objectContaining({
        line: 3,
        column: 3,
        message: expect.stringMatching(/"__proto__" is not allowed/),
      }),
    ]);
  });

  it('a NUL byte in a command or a path is refused at load', () => {
    const issues = issuesOf(
      'version: 1\ntasks:\n  n:\n    action: shell\n    with: { command: "echo a\\0b", cwd: "/tmp/\\0" }\n',
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['tasks.n.with.command', 'tasks.n.with.cwd']);
    expect(issues[0]!.message).toMatch(/contains a NUL byte/);
  });

  it('cuts a 100,000-character value to about 80 characters in the message', () => {
    const issues = issuesOf(`version: 1\ntimezone: ${'x'.repeat(100_000)}\ntasks: {}\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message.length).toBeLessThan(200);
    expect(issues[0]!.message).toMatch(/^unknown time zone "x{79}…"; expected an IANA name/);
    const key = issuesOf(`version: 1\n${'k'.repeat(100_000)}: 1\ntasks: {}\n`);
    expect(key[0]!.message.length).toBeLessThan(300);
    expect(key[0]!.path.length).toBeLessThanOrEqual(80);
  });

  it('validate exits 2 with one line for each, never an internal error', () => {
    const dir = tempDir();
    for (const yaml of [
      'version: 1\ntasks: *nope\n',
      'version: 1\ntasks:\n  __proto__: { action: shell }\n',
    ]) {
      writeFileSync(join(dir, 'caretaker.yaml'), yaml);
      const r = cli(['validate'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('config loader: time linear in the number of tasks', () => {
  function tasks(n: number): string {
    const out = ['version: 1', 'tasks:'];
    for (let i = 0; i < n; i++)
      out.push(
        `  t${i}:`,
        '    action: shell',
        '    schedule: "*/5 * * * *"',
        `    with: { command: "echo ${i}" }`,
      );
    return `${out.join('\n')}\n`;
  }

  /** CPU seconds (not wall time: other processes share the machine) to validate n tasks. */
  async function seconds(dir: string, n: number): Promise<number> {
    const file = join(dir, `c${n}.yaml`);
    writeFileSync(file, tasks(n));
    const start = process.cpuUsage();
    const report = await validateConfigFile(file);
    const used = process.cpuUsage(start);
    expect(report.tasks).toBe(n);
    return (used.user + used.system) / 1e6;
  }

  it('validates ten times the tasks in well under a hundred times the time', async () => {
    const dir = tempDir();
    await seconds(dir, 2000); // warm up: module loading and JIT
    const small = Math.min(await seconds(dir, 2000), await seconds(dir, 2000));
    const large = await seconds(dir, 20_000);
    console.log(`validate: 2,000 tasks ${small.toFixed(2)} s, 20,000 tasks ${large.toFixed(2)} s (CPU)`);
    // Linear is ×10; the parser's quadratic duplicate-key check made it far more (50,000 tasks
    // took 35 s).
    expect(large / small).toBeLessThan(20);
  }, 120_000);
});
