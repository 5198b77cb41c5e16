/**
 * test-health end to end: node's own test runner writes the JUnit XML (and, with
 * --experimental-test-coverage, real lcov) in git repositories made in temp dirs; c8, installed
 * from the registry once for this file, writes istanbul's coverage-summary.json and Cobertura XML.
 * Flaky tests across runs go through the real engine and store (createCaretaker + runNow), so the
 * history the second run reads is the first run's recorded result.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHealthAction } from '../../src/actions/test-health.js';
import { parseCoverage } from '../../src/actions/test-health/coverage.js';
import { createCaretaker } from '../../src/create-caretaker.js';
import { SystemClock } from '../../src/engine/clock.js';
import type { RunRecord } from '../../src/store/types.js';
import { optionsError, runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

// No path argument: `node --test test/` means a directory on Node 20 but a file pattern on 22
// (which then fails to load "test/"); with none, both find test/*.test.js themselves.
const NODE_TEST = 'node --test --test-reporter=junit --test-reporter-destination=reports/junit.xml';

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
}

/** A git repository holding `files`, committed, with reports/ and coverage/ ignored. */
function repo(files: Record<string, string>): string {
  const dir = tempDir('th-');
  write(dir, {
    'package.json': '{ "type": "module" }\n',
    '.gitignore': 'reports/\ncoverage/\n.caretaker/\nstate/\n',
    ...files,
  });
  git(dir, 'init', '-q');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
  return dir;
}

/** Known outcome: 3 pass (one nested two suites deep), 1 fails, 1 skipped, 1 todo. */
const MIXED_SUITE = `import { test, describe } from 'node:test';
import assert from 'node:assert';
describe('math', () => {
  test('adds', () => assert.equal(1 + 2, 3));
  test('subtracts wrong', () => assert.equal(3 - 1, 1));
  test('not yet', { skip: true }, () => {});
  describe('nested', () => { test('deep', () => {}); });
});
test('top level', () => {});
test('later', { todo: true }, () => {});
`;

/** Fails the first time it runs in a directory, passes after (a counter file). */
const FLIP_TEST = `import { test } from 'node:test';
import { existsSync, writeFileSync } from 'node:fs';
test('steady', () => {});
test('flips', () => {
  const seen = existsSync('.flip-counter');
  writeFileSync('.flip-counter', 'x');
  if (!seen) throw new Error('first run fails');
});
`;

async function twice(dir: string, withYaml: string): Promise<[RunRecord, RunRecord]> {
  const ct = createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  tests:\n    action: test-health\n    with:\n${withYaml}`,
    baseDir: dir,
    clock: new SystemClock(),
  });
  try {
    const a = await ct.runNow('tests');
    const b = await ct.runNow('tests');
    return [a, b];
  } finally {
    await ct.close();
  }
}

describe('test-health reading JUnit from node --test', () => {
  it('counts passes, failures and skips exactly and names the failing test', async () => {
    const dir = repo({ 'test/math.test.js': MIXED_SUITE });
    const { result, output } = await runAction(
      testHealthAction,
      { command: NODE_TEST, junit: 'reports/*.xml' },
      { baseDir: dir },
    );
    const d = result.details!;
    expect([d.tests, d.passed, d.failures, d.skipped]).toEqual([6, 3, 1, 2]);
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.issuesFound).toBe(1);
    expect(result.summary).toMatch(
      /^6 tests: 3 passed, 1 failed, 2 skipped in .* — test > math > subtracts wrong failed: 2 == 1/,
    );
    expect(d.failed).toEqual([
      { id: 'test > math > subtracts wrong', status: 'failed', message: '2 == 1', verdict: 'broken' },
    ]);
    expect(d.commit).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect((d.slowest as { id: string }[]).map((s) => s.id)).toContain('test > math > nested > deep');
    expect(result.samples).toContainEqual({ key: 'tests', value: 6 });
    expect(output).toBe(`$ ${NODE_TEST}\ntest > math > subtracts wrong failed: 2 == 1\n`);
  });

  it('caps the slowest list with `slowest`, slowest first', async () => {
    const dir = repo({ 'test/math.test.js': MIXED_SUITE });
    const { result } = await runAction(
      testHealthAction,
      { command: NODE_TEST, junit: 'reports/*.xml', slowest: 2 },
      { baseDir: dir },
    );
    const slow = result.details!.slowest as { ms: number }[];
    expect(slow).toHaveLength(2);
    expect(slow[0]!.ms).toBeGreaterThanOrEqual(slow[1]!.ms);
  });

  it('is ok when every test passes, and does not read a report left by an earlier run', async () => {
    const dir = repo({ 'test/ok.test.js': `import { test } from 'node:test';\ntest('fine', () => {});\n` });
    const first = await runAction(
      testHealthAction,
      { command: NODE_TEST, junit: 'reports/*.xml' },
      { baseDir: dir },
    );
    expect(first.result.ok).toBe(true);
    expect(first.result.summary).toMatch(/^1 test: 1 passed, 0 failed, 0 skipped/);
    // A command that writes no report: the old junit.xml must not pass for this run's results.
    const second = await runAction(
      testHealthAction,
      { command: 'true', junit: 'reports/*.xml' },
      { baseDir: dir },
    );
    expect(second.result.ok).toBe(false);
    expect(second.result.summary).toBe(
      `no JUnit report was written: junit "reports/*.xml" matched only 1 report file left from an earlier run (reports/junit.xml) in ${dir} after \`true\` exited 0`,
    );
  });

  it('fails clearly when the glob matches nothing, and when the command cannot start', async () => {
    const dir = repo({});
    const none = await runAction(
      testHealthAction,
      { command: 'exit 3', junit: 'out/*.xml' },
      { baseDir: dir },
    );
    expect(none.result.ok).toBe(false);
    expect(none.result.summary).toBe(
      '`exit 3` failed (exit 3) and wrote no JUnit report (junit "out/*.xml" matched no file); it printed nothing',
    );
    const missing = await runAction(
      testHealthAction,
      { command: ['no-such-runner-xyz', 'test'], junit: 'out/*.xml' },
      { baseDir: dir },
    );
    expect(missing.result.ok).toBe(false);
    expect(missing.result.summary).toMatch(/^could not start `no-such-runner-xyz test`: .*ENOENT/);
  });

  it('blames the command, not the XML, when it was not found or crashed', async () => {
    const dir = repo({});
    // The shell's redirect creates the report file even though the runner is missing.
    const notFound = await runAction(
      testHealthAction,
      { command: 'mkdir -p out && no-such-runner-xyz --reporter=junit > out/report.xml', junit: 'out/*.xml' },
      { baseDir: dir },
    );
    expect(notFound.result.ok).toBe(false);
    expect(notFound.result.exitCode).toBe(127);
    expect(notFound.result.summary).toMatch(
      /^`mkdir -p out && no-such-runner-xyz --reporter=junit > out\/report\.xml` exited 127: a command was not found and left no readable JUnit report \(out\/report\.xml: empty\); its output ended: .*no-such-runner-xyz: (command )?not found$/,
    );
    expect(notFound.result.summary).not.toMatch(/^no JUnit report could be read/);
    // A runner that dies half-way through writing its report.
    const crashed = await runAction(
      testHealthAction,
      {
        command: `mkdir -p out && printf '<testsuites><testsuite name="a"><testcase' > out/r.xml && echo 'Segmentation fault' >&2 && exit 139`,
        junit: 'out/*.xml',
      },
      { baseDir: dir },
    );
    expect(crashed.result.ok).toBe(false);
    expect(crashed.result.summary).toMatch(
      /^`.*` failed \(exit 139\) and left no readable JUnit report \(out\/r\.xml: .*\); its output ended: Segmentation fault$/,
    );
  });

  it('reports a non-zero exit whose reports list no failure as a problem', async () => {
    const dir = repo({ 'test/ok.test.js': `import { test } from 'node:test';\ntest('fine', () => {});\n` });
    const { result } = await runAction(
      testHealthAction,
      { command: `${NODE_TEST} && exit 4`, junit: 'reports/*.xml' },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toContain('exited 4 though its reports list no failing test');
  });

  it('plans in a dry run and runs nothing', async () => {
    const dir = repo({ 'test/math.test.js': MIXED_SUITE });
    const { result } = await runAction(
      testHealthAction,
      {
        command: NODE_TEST,
        junit: 'reports/*.xml',
        coverage: 'coverage/lcov.info',
        min_coverage: 80,
        rerun_failed: 1,
      },
      { baseDir: dir, dryRun: true },
    );
    expect(result.ok).toBe(true);
    expect(result.plan).toEqual([
      `run \`${NODE_TEST}\` in ${dir}`,
      'read the JUnit reports it writes (reports/*.xml); files older than the run are ignored',
      'read coverage from coverage/lcov.info and check lines >= 80%',
      `rerun failing tests once with \`${NODE_TEST}\``,
    ]);
    expect(existsSync(join(dir, 'reports'))).toBe(false);
  });
});

describe('test-health finding flaky tests', () => {
  it('names a test that failed in one run and passed in the next on the same commit (engine history)', async () => {
    const dir = repo({ 'test/flip.test.js': FLIP_TEST });
    const [a, b] = await twice(dir, `      command: ${NODE_TEST}\n      junit: reports/*.xml\n`);
    expect(a.status).toBe('failed');
    expect(a.result!.details!.broken).toBe(1);
    expect(b.status).toBe('warning');
    expect(b.result!.ok).toBe(true);
    expect(b.result!.details!.flaky).toEqual([{ id: 'test > flips', failedIn: [a.id], passedIn: [b.id] }]);
    expect(b.result!.warnings).toContain(`flaky: test > flips (failed in run #${a.id}, passed in #${b.id})`);
  });

  it('does not call it flaky when the commit changed between the runs', async () => {
    const dir = repo({ 'test/flip.test.js': FLIP_TEST });
    const opts = { command: NODE_TEST, junit: 'reports/*.xml' };
    const a = await runAction(testHealthAction, opts, { baseDir: dir, runId: 1 });
    expect(a.result.ok).toBe(false);
    write(dir, { 'README.md': 'changed\n' });
    git(dir, 'add', '.');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'next');
    const ctxHistory = [{ id: 1, status: 'failed', startedAt: 0, durationMs: 1, result: a.result }];
    const b = (await runAction(testHealthAction, opts, { baseDir: dir, runId: 2, history: ctxHistory }))
      .result;
    expect(b.ok).toBe(true);
    expect(b.details!.flaky).toEqual([]);
  });

  it('with rerun_failed: a test failing then passing is flaky, one failing twice is broken', async () => {
    // Outside git on purpose: the rerun alone decides, no history needed.
    const dir = realTemp();
    write(dir, {
      'package.json': '{ "type": "module" }\n',
      'test/flip.test.js': FLIP_TEST,
      'test/broken.test.js': `import { test } from 'node:test';\ntest('always red', () => { throw new Error('nope'); });\n`,
    });
    const { result } = await runAction(
      testHealthAction,
      { command: NODE_TEST, junit: 'reports/*.xml', rerun_failed: 1 },
      { baseDir: dir },
    );
    expect(result.details!.commit).toBeNull();
    expect(result.details!.failures).toBe(2);
    expect(result.details!.broken).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/1 broken, 1 flaky — test > always red failed: nope$/);
    expect(
      (result.details!.failed as { id: string; verdict: string }[]).map((f) => [f.id, f.verdict]),
    ).toEqual([
      ['test > always red', 'broken'],
      ['test > flips', 'flaky'],
    ]);
  });

  it('reruns only the failing tests through rerun_command {pattern}, and a flaky-only run is ok', async () => {
    const dir = repo({
      'test/flip.test.js': FLIP_TEST,
      'test/count.test.js': `import { test } from 'node:test';\nimport { appendFileSync } from 'node:fs';\ntest('counted', () => appendFileSync('.runs', 'x'));\n`,
    });
    const { result } = await runAction(
      testHealthAction,
      {
        command: NODE_TEST,
        junit: 'reports/*.xml',
        rerun_failed: 1,
        rerun_command: [
          'node',
          '--test',
          '--test-name-pattern',
          '{pattern}',
          '--test-reporter=junit',
          '--test-reporter-destination=reports/junit.xml',
        ],
      },
      { baseDir: dir },
    );
    expect(result.ok).toBe(true);
    expect(result.details!.rerun).toEqual({ passed: ['test > flips'], stillFailing: 0 });
    expect(result.summary).toMatch(/0 broken, 1 flaky$/);
    // 'counted' ran in the first run only: the rerun was filtered to the failing test.
    expect(readFileSync(join(dir, '.runs'), 'utf8')).toBe('x');
  });
});

function realTemp(): string {
  return tempDir('th-nogit-');
}

// c8 writes istanbul's coverage-summary.json and Cobertura XML; installed once from the registry.
let c8: string | undefined;
let c8Unavailable: string | undefined;
const tools = mkdtempSync(join(tmpdir(), 'th-c8-'));
afterAll(() => rmSync(tools, { recursive: true, force: true }));
beforeAll(() => {
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', tools, 'c8@10'], {
      stdio: 'pipe',
      timeout: 90_000,
    });
    c8 = join(tools, 'node_modules', '.bin', 'c8');
  } catch (err) {
    c8Unavailable = (err as Error).message.split('\n')[0];
    console.warn(`c8 coverage tests skipped: ${c8Unavailable}`);
  }
}, 120_000);

/** lib.js: 10 lines, the test covers `half` only, so lines and functions are both well below 90%. */
const COVERED_PROJECT = {
  'lib.js': `export function half(n) {
  return n / 2;
}
export function unused(n) {
  const a = n + 1;
  const b = a * 2;
  if (b > 10) return b;
  return a;
}
`,
  'test/lib.test.js': `import { test } from 'node:test';\nimport assert from 'node:assert';\nimport { half } from '../lib.js';\ntest('half', () => assert.equal(half(4), 2));\n`,
};

describe('test-health coverage', () => {
  it('fails with the metric named when c8 coverage is below min_coverage, and all three formats agree', async (t) => {
    if (!c8) return t.skip();
    const dir = repo(COVERED_PROJECT);
    const command = `${c8} --reporter=json-summary --reporter=cobertura --reporter=lcovonly --include=lib.js ${NODE_TEST}`;
    const { result } = await runAction(
      testHealthAction,
      {
        command,
        junit: 'reports/*.xml',
        coverage: 'coverage/coverage-summary.json',
        min_coverage: { lines: 90, branches: 0 },
      },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    const cov = result.details!.coverage as {
      format: string;
      metrics: Record<string, { covered: number; total: number; pct: number; ok: boolean }>;
    };
    expect(cov.format).toBe('istanbul-summary');
    const lines = cov.metrics.lines!;
    expect(lines.ok).toBe(false);
    expect(lines.pct).toBeLessThan(90);
    expect(result.summary).toContain(
      `lines coverage ${lines.pct}% is below 90% (${lines.covered}/${lines.total})`,
    );
    expect(result.issuesFound).toBe(1);
    expect(result.samples).toContainEqual({
      key: 'coverage:lines',
      value: lines.pct,
      unit: '%',
      better: 'higher',
    });
    // The same run's Cobertura and lcov files give the same line counts.
    for (const f of ['coverage/cobertura-coverage.xml', 'coverage/lcov.info']) {
      const parsed = parseCoverage(readFileSync(join(dir, f), 'utf8'), f);
      expect(parsed.ok && parsed.totals.lines).toEqual({ covered: lines.covered, total: lines.total });
    }
    // The threshold met: ok, with every metric reported.
    const pass = await runAction(
      testHealthAction,
      { command, junit: 'reports/*.xml', coverage: 'coverage/cobertura-coverage.xml', min_coverage: 10 },
      { baseDir: dir },
    );
    expect(pass.result.ok).toBe(true);
    expect(pass.result.summary).toMatch(new RegExp(`lines ${lines.pct}% \\(min 10%\\), branches [\\d.]+%$`));
  });

  it('reads coverage from the first run, not from a rerun of the failures alone', async (t) => {
    if (!c8) return t.skip();
    const dir = repo({ ...COVERED_PROJECT, 'test/flip.test.js': FLIP_TEST });
    const tool = `${c8} --reporter=json-summary --include=lib.js node --test --test-reporter=junit --test-reporter-destination=reports/junit.xml`;
    const { result } = await runAction(
      testHealthAction,
      {
        command: tool,
        junit: 'reports/*.xml',
        coverage: 'coverage/coverage-summary.json',
        rerun_failed: 1,
        rerun_command: `${tool} --test-name-pattern {pattern}`,
      },
      { baseDir: dir },
    );
    expect(result.details!.rerun).toEqual({ passed: ['test > flips'], stillFailing: 0 });
    const lines = (result.details!.coverage as { metrics: { lines: { covered: number } } }).metrics.lines;
    // The rerun ran only 'flips', which calls nothing in lib.js: its summary covers fewer lines.
    const after = JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-summary.json'), 'utf8')) as {
      total: { lines: { covered: number } };
    };
    expect(after.total.lines.covered).toBeLessThan(lines.covered);
  });

  it('reads the lcov written by node --experimental-test-coverage', async () => {
    const dir = repo(COVERED_PROJECT);
    mkdirSync(join(dir, 'coverage'));
    const command = `${NODE_TEST} --experimental-test-coverage --test-reporter=lcov --test-reporter-destination=coverage/lcov.info`;
    const { result } = await runAction(
      testHealthAction,
      { command, junit: 'reports/*.xml', coverage: 'coverage/lcov.info', min_coverage: { functions: 90 } },
      { baseDir: dir },
    );
    const cov = result.details!.coverage as {
      format: string;
      metrics: Record<string, { covered: number; total: number }>;
    };
    expect(cov.format).toBe('lcov');
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/functions coverage [\d.]+% is below 90%/);
    expect(cov.metrics.functions!.covered).toBeLessThan(cov.metrics.functions!.total);
  });

  it('fails when min_coverage is set but no coverage report was written', async () => {
    const dir = repo({ 'test/ok.test.js': `import { test } from 'node:test';\ntest('fine', () => {});\n` });
    const { result } = await runAction(
      testHealthAction,
      { command: NODE_TEST, junit: 'reports/*.xml', coverage: 'coverage/*.json', min_coverage: 50 },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toContain(
      'no coverage report was written: coverage "coverage/*.json" matched no file',
    );
  });
});

describe('test-health options', () => {
  it('rejects bad options with a clear message', () => {
    expect(optionsError(testHealthAction, { command: 'npm test' })).toMatch(/^junit: /);
    expect(
      optionsError(testHealthAction, { command: 'npm test', junit: 'r/*.xml', min_coverage: 120 }),
    ).toMatch(/^min_coverage: /);
    expect(
      optionsError(testHealthAction, { command: 'npm test', junit: 'r/*.xml', min_coverage: { line: 80 } }),
    ).toMatch(/^min_coverage/);
    expect(optionsError(testHealthAction, { command: 'npm test', junit: 'r/*.xml', rerun_failed: 2 })).toBe(
      'rerun_failed: expected 0 or 1',
    );
  });
});
