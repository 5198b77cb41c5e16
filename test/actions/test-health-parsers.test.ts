/**
 * The JUnit and coverage parsers on other runners' real output: pytest (when python3 has it) and
 * vitest (this repo's own) write their JUnit XML in a temp dir. Maven surefire and Cobertura from
 * coverage.py cannot run here, so those two are literal documents in the shape those tools write.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoverage, pct } from '../../src/actions/test-health/coverage.js';
import { parseJunit } from '../../src/actions/test-health/junit.js';
import { findFlaky, makeRecord } from '../../src/actions/test-health/flaky.js';
import { rerunCommand } from '../../src/actions/test-health/rerun.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';

const summary = (xml: string) => {
  const r = parseJunit(xml);
  if (!r.ok) throw new Error(r.reason);
  return r.cases.map((c) => [c.id, c.status, c.message ?? null]);
};

const noPytest =
  spawnSync('python3', ['-m', 'pytest', '--version']).status === 0
    ? undefined
    : skipBecause(
        "parsing pytest's JUnit XML",
        'python3 has no pytest module (pip install pytest, or apt-get install -y python3-pytest for /usr/bin/python3)',
      );

describe('parseJunit', () => {
  it.skipIf(noPytest)('reads pytest output: classes, failures, setup errors and skips', () => {
    const dir = tempDir('th-py-');
    mkdirSync(join(dir, 'tests'));
    writeFileSync(
      join(dir, 'tests', 'test_x.py'),
      `import pytest
class TestGroup:
    def test_ok(self): assert True
    def test_bad(self): assert 1 == 2
@pytest.fixture
def boom(): raise RuntimeError("fixture exploded")
def test_err(boom): pass
@pytest.mark.skip(reason="later")
def test_skip(): pass
`,
    );
    spawnSync(
      'python3',
      ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--junitxml=reports/py.xml', 'tests'],
      {
        cwd: dir,
      },
    );
    expect(summary(readFileSync(join(dir, 'reports', 'py.xml'), 'utf8'))).toEqual([
      ['tests.test_x.TestGroup > pytest > test_ok', 'passed', null],
      ['tests.test_x.TestGroup > pytest > test_bad', 'failed', 'assert 1 == 2'],
      ['tests.test_x > pytest > test_err', 'error', 'failed on setup with "RuntimeError: fixture exploded"'],
      ['tests.test_x > pytest > test_skip', 'skipped', null],
    ]);
  });

  it("reads vitest's junit reporter (suite and classname both the file, said once)", () => {
    const dir = tempDir('th-vi-');
    writeFileSync(
      join(dir, 'a.test.ts'),
      `import { describe, it, expect } from 'vitest';
describe('outer', () => {
  describe('inner', () => { it('works', () => expect(1).toBe(1)); it('breaks', () => expect(1).toBe(2)); });
  it.skip('skipped', () => {});
});
`,
    );
    const vitest = resolve('node_modules', '.bin', 'vitest');
    spawnSync(vitest, ['run', '--root', dir, '--reporter=junit', '--outputFile=reports/vi.xml'], {
      cwd: dir,
    });
    expect(summary(readFileSync(join(dir, 'reports', 'vi.xml'), 'utf8'))).toEqual([
      ['a.test.ts > outer > inner > works', 'passed', null],
      ['a.test.ts > outer > inner > breaks', 'failed', 'expected 1 to be 2 // Object.is equality'],
      ['a.test.ts > outer > skipped', 'skipped', null],
    ]);
  });

  it('reads a bare <testsuite> root as maven surefire writes it, times in seconds', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CalcTest" time="1.5" tests="3" errors="1" skipped="0" failures="1">
  <testcase name="adds" classname="com.example.CalcTest" time="0.25"/>
  <testcase name="divides" classname="com.example.CalcTest" time="1,000.5">
    <failure message="expected:&lt;2&gt; but was:&lt;3&gt;" type="org.opentest4j.AssertionFailedError">trace</failure>
  </testcase>
  <testcase name="io" classname="com.example.CalcTest" time="0.01">
    <error type="java.io.IOException">java.io.IOException: disk gone
\tat com.example.CalcTest.io(CalcTest.java:30)</error>
  </testcase>
</testsuite>`;
    const r = parseJunit(xml);
    expect(r.ok && r.cases.map((c) => [c.id, c.status, c.timeMs, c.message ?? null])).toEqual([
      ['com.example.CalcTest > adds', 'passed', 250, null],
      ['com.example.CalcTest > divides', 'failed', 1_000_500, 'expected:<2> but was:<3>'],
      ['com.example.CalcTest > io', 'error', 10, 'java.io.IOException: disk gone'],
    ]);
  });

  it('says why a file is not a JUnit report', () => {
    expect(parseJunit('<coverage/>')).toEqual({
      ok: false,
      reason: 'no <testsuites> or <testsuite> root: not a JUnit report',
    });
    expect(parseJunit('<testsuites><testsuite>')).toMatchObject({ ok: false });
    expect(parseJunit('<testsuites/>')).toEqual({ ok: true, cases: [] });
  });
});

describe('parseCoverage', () => {
  it('reads Cobertura as coverage.py writes it (lines and branches, no functions)', () => {
    const xml = `<?xml version="1.0" ?>
<coverage version="7.4.0" timestamp="1" lines-valid="200" lines-covered="150" line-rate="0.75" branches-valid="40" branches-covered="10" branch-rate="0.25" complexity="0">
  <sources><source>/app</source></sources>
  <packages/>
</coverage>`;
    expect(parseCoverage(xml)).toEqual({
      ok: true,
      format: 'cobertura',
      totals: { lines: { covered: 150, total: 200 }, branches: { covered: 10, total: 40 } },
    });
  });

  it('sums lcov records and rounds percentages down (79.99 is not 80)', () => {
    const lcov =
      'TN:\nSF:a.js\nLF:10000\nLH:7999\nend_of_record\nSF:b.js\nFNF:2\nFNH:1\nLF:0\nLH:0\nend_of_record\n';
    const r = parseCoverage(lcov);
    expect(r).toEqual({
      ok: true,
      format: 'lcov',
      totals: { lines: { covered: 7999, total: 10000 }, functions: { covered: 1, total: 2 } },
    });
    expect(pct({ covered: 7999, total: 10000 })).toBe(79.99);
    expect(pct({ covered: 0, total: 0 })).toBe(100);
  });

  it('refuses what is not a summary', () => {
    expect(parseCoverage('{"result": []}')).toEqual({
      ok: false,
      reason: 'no "total" block: not an istanbul coverage-summary.json',
    });
    expect(parseCoverage('hello')).toMatchObject({ ok: false });
  });
});

describe('flaky records', () => {
  it('match only runs on the same commit and worktree, and survive the id caps', () => {
    const code = { commit: 'a'.repeat(40), worktree: null };
    const run1 = makeRecord(code, ['t > x'], ['t > y']);
    const run2 = makeRecord(code, [], ['t > x', 't > y']);
    expect(findFlaky({ runId: 2, record: run2 }, [{ runId: 1, record: run1 }])).toEqual([
      { id: 't > x', failedIn: [1], passedIn: [2] },
    ]);
    const edited = makeRecord({ ...code, worktree: 'abc' }, [], ['t > x']);
    expect(findFlaky({ runId: 3, record: edited }, [{ runId: 1, record: run1 }])).toEqual([]);
    const many = makeRecord(
      code,
      [],
      Array.from({ length: 6000 }, (_, i) => `t${i}`),
    );
    expect(many.passed).toHaveLength(5000 * 8);
    expect(many.truncated).toBe(true);
  });
});

describe('rerunCommand', () => {
  const failed = [{ id: "f > it's odd", name: "it's odd", suites: [], status: 'failed' as const }];
  it('quotes names for the shell and builds an anchored pattern', () => {
    expect(rerunCommand('pytest -k {tests}', failed)).toBe(`pytest -k 'it'\\''s odd'`);
    expect(
      rerunCommand('node --test --test-name-pattern={pattern}', [{ ...failed[0]!, name: 'a.b (c)' }]),
    ).toBe(`node --test --test-name-pattern='^(?:a\\.b \\(c\\))$'`);
    expect(rerunCommand(['jest', '-t', '{pattern}', '{tests}'], failed)).toEqual([
      'jest',
      '-t',
      "^(?:it's odd)$",
      "it's odd",
    ]);
  });
});
