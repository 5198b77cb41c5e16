/**
 * code-quality end to end: the real eslint, tsc and prettier of this repository on a fixture git
 * repository with known problems (test/fixtures/code-quality/repo.ts), run through the engine so
 * that fixes happen inside real rollback points.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { codeQualityAction } from '../../src/actions/code-quality.js';
import { SystemClock } from '../../src/engine/clock.js';
import type { RunRecord } from '../../src/store/types.js';
import { optionsError } from '../support/run-action.js';
import { fingerprint } from '../support/tree.js';
import { tempDir } from '../support/tmp.js';
import { git, makeQualityRepo } from '../fixtures/code-quality/repo.js';

async function quality(dir: string, withYaml: string, opts: { dryRun?: boolean } = {}): Promise<RunRecord> {
  const ct = createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  quality:\n    action: code-quality\n    with:\n${withYaml}`,
    baseDir: dir,
    clock: new SystemClock(),
  });
  try {
    return await ct.runNow('quality', opts);
  } finally {
    await ct.close();
  }
}

interface ToolDetail {
  name: string;
  found: number | null;
  remaining: number | null;
  bySeverity: Record<string, number>;
  byFile: Record<string, number>;
  error: string | null;
}
interface Listed {
  tool: string;
  severity: string;
  file: string | null;
  line?: number;
  column?: number;
  rule?: string;
}
const tools = (r: RunRecord) => r.result?.details?.tools as ToolDetail[];
const issues = (r: RunRecord) => r.result?.details?.issues as Listed[];

describe('code-quality checks', () => {
  it('counts the known problems exactly, by tool, severity, file and line', async () => {
    const dir = tempDir();
    makeQualityRepo(join(dir, 'repo'));
    const r = await quality(dir, '      cwd: repo\n      tools: [eslint, tsc, prettier]\n');
    expect(r.status).toBe('failed');
    expect(r.result?.issuesFound).toBe(5);
    expect(tools(r).map((t) => [t.name, t.found, t.bySeverity, t.byFile])).toEqual([
      ['eslint', 3, { info: 0, warning: 1, error: 2 }, { 'src/util.js': 3 }],
      ['tsc', 1, { info: 0, warning: 0, error: 1 }, { 'src/types.ts': 1 }],
      ['prettier', 1, { info: 0, warning: 0, error: 1 }, { 'src/ugly.js': 1 }],
    ]);
    expect(issues(r).map((i) => [i.tool, i.severity, i.file, i.line, i.column, i.rule])).toEqual([
      ['eslint', 'warning', 'src/util.js', 1, 5, 'prefer-const'],
      ['eslint', 'error', 'src/util.js', 3, 9, 'no-unused-vars'],
      ['eslint', 'error', 'src/util.js', 4, 9, 'eqeqeq'],
      ['tsc', 'error', 'src/types.ts', 1, 14, 'TS2322'],
      ['prettier', 'error', 'src/ugly.js', undefined, undefined, 'format'],
    ]);
    expect(r.result?.summary).toBe(
      '5 issues (eslint 3 (2 errors, 1 warning), tsc 1 error, prettier 1 error)',
    );
    expect(r.result?.warnings).toEqual(['1 issue below error remains (eslint 1)']);
    expect(r.result?.issuesFixed).toBe(0);
  });

  it('fails only at the fail_on severity, and reports complexity over the limit as warnings', async () => {
    const dir = tempDir();
    makeQualityRepo(join(dir, 'repo'));
    const r = await quality(
      dir,
      '      cwd: repo\n      tools: [eslint]\n      fail_on: never\n      max_complexity: 1\n',
    );
    expect(r.status).toBe('success');
    const complexity = r.result?.details?.complexity as { files: number; functions: number; over: unknown[] };
    // eslint.config.js, src/util.js, src/ugly.js and src/types.ts; only add() is a function.
    expect(complexity).toMatchObject({ files: 4, functions: 1 });
    expect(complexity.over).toEqual([{ name: 'add', line: 2, complexity: 2, file: 'src/util.js' }]);
    expect(r.result?.issuesFound).toBe(4);
  });

  it('says in one line which tool is missing and how to get it', async () => {
    const dir = tempDir(); // no node_modules here: the eslint preset has nothing to run
    writeFileSync(join(dir, 'a.js'), 'export const a = 1;\n');
    // vitest puts this worktree's node_modules/.bin on PATH; a machine without eslint has none.
    const saved = process.env.PATH;
    process.env.PATH = (saved ?? '')
      .split(':')
      .filter((p) => !p.includes('node_modules'))
      .join(':');
    let r: RunRecord;
    try {
      r = await quality(
        dir,
        '      tools: [eslint, { name: lint2, command: caretaker-no-such-linter ., format: exit-code }]\n',
      );
    } finally {
      process.env.PATH = saved;
    }
    expect(r!.status).toBe('failed');
    expect(tools(r!).map((t) => t.error)).toEqual([
      'eslint: eslint is not installed or not on PATH (cannot start eslint: ENOENT); install it with: npm install --save-dev eslint',
      expect.stringMatching(/^lint2: `caretaker-no-such-linter \.` could not run: .*not found$/),
    ]);
    expect(r!.result?.summary).toMatch(/^0 issues; 2 tools could not run — eslint: eslint is not installed/);
  });

  it('tells a tool that could not run from one that found problems', async () => {
    const dir = tempDir();
    const repo = makeQualityRepo(join(dir, 'repo'));
    rmSync(join(repo, 'eslint.config.js')); // eslint 9 exits 2 without a config: no report
    const r = await quality(dir, '      cwd: repo\n      tools: [eslint, prettier]\n');
    expect(tools(r).map((t) => [t.name, t.found, t.error])).toEqual([
      [
        'eslint',
        null,
        `eslint could not check ${repo}: no ESLint JSON report (exit 2): ESLint couldn't find an eslint.config.(js|mjs|cjs) file.`,
      ],
      ['prettier', 1, null],
    ]);
    expect(r.result?.summary).toBe(
      `1 issue (prettier 1 error); 1 tool could not run — eslint could not check ${repo}: no ESLint JSON report (exit 2): ESLint couldn't find an eslint.config.(js|mjs|cjs) file.`,
    );
  });

  it('reads a SARIF 2.1 log from standard output or from a report file', async () => {
    // No SARIF producer is installed here (eslint needs a plugin for it): the log is built by hand
    // to the SARIF 2.1.0 schema, with a file: URI, a relative URI and a ruleIndex-only result.
    const dir = tempDir();
    const sarif = {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'demo', rules: [{ id: 'D001' }, { id: 'D002' }] } },
          results: [
            {
              ruleId: 'D001',
              level: 'error',
              message: { text: 'bad thing' },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: `file://${dir}/src/a%20b.ts` },
                    region: { startLine: 3, startColumn: 7 },
                  },
                },
              ],
            },
            {
              ruleIndex: 1,
              message: { text: 'doubtful thing' },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: 'lib/c.js', uriBaseId: '%SRCROOT%' },
                    region: { startLine: 9 },
                  },
                },
              ],
            },
            { ruleId: 'D003', level: 'note', message: { text: 'fyi' } },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'log.sarif'), JSON.stringify(sarif));
    const r = await quality(
      dir,
      "      fail_on: warning\n      tools:\n        - { name: demo, command: 'cat log.sarif; exit 1', format: sarif }\n        - { name: demo-file, command: 'cp log.sarif out.sarif', format: sarif, output_file: out.sarif }\n",
    );
    const expected = [
      ['error', 'src/a b.ts', 3, 7, 'D001'],
      ['warning', 'lib/c.js', 9, undefined, 'D002'],
      ['info', null, undefined, undefined, 'D003'],
    ];
    expect(issues(r).map((i) => [i.tool, i.severity, i.file, i.line, i.column, i.rule])).toEqual([
      ...expected.map((e) => ['demo', ...e]),
      ...expected.map((e) => ['demo-file', ...e]),
    ]);
    expect(r.status).toBe('failed');
    expect(r.result?.warnings).toEqual(['2 issues below warning remain (demo 1, demo-file 1)']);
  });

  it('rejects bad tool entries with a message that says what is expected', () => {
    expect(optionsError(codeQualityAction, { tools: ['eslnt'] })).toBe(
      'tools.0: expected a preset (eslint, tsc, prettier, ruff) or { name, command, format, fix_command? }',
    );
    expect(optionsError(codeQualityAction, { tools: [{ name: 'x', command: 'x' }] })).toMatch(/format/);
    expect(optionsError(codeQualityAction, { tools: [{ preset: 'eslint', format: 'xml' }] })).toMatch(
      /format/,
    );
    expect(optionsError(codeQualityAction, { tools: ['tsc', { preset: 'tsc', command: 'tsc -p a' }] })).toBe(
      'tools.1: a second tool named tsc: give it its own name (name: tsc-2)',
    );
    expect(optionsError(codeQualityAction, {})).toBe(
      ': nothing to check: give tools (e.g. [eslint, tsc, prettier]) or max_complexity',
    );
    expect(
      optionsError(codeQualityAction, { tools: [{ preset: 'prettier', command: 'npx prettier -c src' }] }),
    ).toBe(undefined);
  });
});

/** A fixer that also creates a file, to prove created files go too when fixes are rolled back. */
const NOTES_TOOL =
  "        - { name: notes, command: 'test -f NOTES.md', format: exit-code, fix_command: 'echo notes > NOTES.md' }\n";

describe('code-quality with fix: true', () => {
  it('rolls the fixes back when verify fails, leaving every file as it was', async () => {
    const dir = tempDir();
    const repo = makeQualityRepo(join(dir, 'repo'));
    writeFileSync(join(repo, 'src/draft.js'), 'export const y  = 2\n'); // untracked, unformatted
    const before = fingerprint(repo);
    const r = await quality(
      dir,
      `      cwd: repo\n      fix: true\n      verify: "node -e 'process.exit(3)'"\n      tools:\n        - eslint\n        - prettier\n${NOTES_TOOL}`,
    );
    const fix = r.result?.details?.fix as {
      kept: boolean;
      rolledBackBecause: string;
      verify: { exitCode: number };
      filesChanged: number;
      notRestored: string[];
    };
    expect(fix).toMatchObject({ kept: false, verify: { exitCode: 3 }, filesChanged: 4, notRestored: [] });
    expect(fix.rolledBackBecause).toBe("verify `node -e 'process.exit(3)'` failed (exit 3)");
    expect(r.result?.warnings).toContain(`fixes rolled back: ${fix.rolledBackBecause}`);
    expect(r.result?.issuesFixed).toBe(0);
    expect(r.result?.filesModified).toBe(0);
    expect(r.result?.changed).toBe(false);
    expect(fingerprint(repo)).toEqual(before); // every file's content and mode; NOTES.md gone
    expect(git(repo, 'status', '--porcelain')).toBe('?? src/draft.js\n');
  });

  it('keeps fixes whose verify passes, with the issues fixed and the lines changed', async () => {
    const dir = tempDir();
    const repo = makeQualityRepo(join(dir, 'repo'));
    const r = await quality(
      dir,
      `      cwd: repo\n      fix: true\n      verify: [node, -e, "process.exit(require('fs').existsSync('NOTES.md') ? 0 : 1)"]\n      tools:\n        - eslint\n        - tsc\n        - prettier\n${NOTES_TOOL}`,
    );
    expect(r.result?.details?.fix).toMatchObject({
      kept: true,
      verify: { exitCode: 0 },
      filesChanged: 3,
      linesAdded: 3,
      linesRemoved: 2,
      files: [
        { file: 'NOTES.md', added: 1, removed: 0 },
        { file: 'src/ugly.js', added: 1, removed: 1 },
        { file: 'src/util.js', added: 1, removed: 1 },
      ],
    });
    // 6 found (eslint 3, tsc 1, prettier 1, notes 1); left: eslint's 2 errors and the type error.
    expect(r.result?.issuesFound).toBe(6);
    expect(r.result?.issuesFixed).toBe(3);
    expect(r.result?.filesModified).toBe(3);
    expect(tools(r).map((t) => [t.name, t.found, t.remaining])).toEqual([
      ['eslint', 3, 2],
      ['tsc', 1, 1],
      ['prettier', 1, 0],
      ['notes', 1, 0],
    ]);
    expect(readFileSync(join(repo, 'src/util.js'), 'utf8')).toMatch(/^const total = 0;/);
    expect(readFileSync(join(repo, 'src/ugly.js'), 'utf8')).toBe('export const x = 1;\n');
    // The numbers agree with git's own view of the work tree.
    git(repo, 'add', '-A');
    expect(git(repo, 'diff', '--cached', '--numstat').trim().split('\n')).toEqual([
      '1\t0\tNOTES.md',
      '1\t1\tsrc/ugly.js',
      '1\t1\tsrc/util.js',
    ]);
    expect(r.status).toBe('failed'); // errors remain
    expect(r.result?.summary).toMatch(/; fixed 3 \(3 files \+3 -2\), verify passed; 3 left$/);
  });

  it('rolls back fixes that leave more issues than before, deleting the files they created', async () => {
    const dir = tempDir();
    const repo = makeQualityRepo(join(dir, 'repo'));
    const before = fingerprint(repo);
    // The fixer of "a" clears a's issue but creates B, which "b" and "c" each report: 1 → 2.
    const r = await quality(
      dir,
      "      cwd: repo\n      fix: true\n      verify: 'true'\n      tools:\n" +
        "        - { name: a, command: 'test -f A', format: exit-code, fix_command: 'touch A B' }\n" +
        "        - { name: b, command: 'test ! -f B', format: exit-code }\n" +
        "        - { name: c, command: 'test ! -f B', format: exit-code }\n",
    );
    expect(r.result?.details?.fix).toMatchObject({
      kept: false,
      rolledBackBecause: 'the fixes left more issues (2) than before (1)',
      verify: null, // not run: the fixes were already refused
      files: [
        { file: 'A', added: 0, removed: 0 },
        { file: 'B', added: 0, removed: 0 },
      ],
    });
    expect(fingerprint(repo)).toEqual(before);
  });

  it('needs a git work tree to fix, and says so', async () => {
    const dir = tempDir();
    const r = await quality(
      dir,
      "      fix: true\n      tools:\n        - { name: a, command: 'test -f A', format: exit-code, fix_command: 'touch A' }\n",
    );
    expect(r.status).toBe('failed');
    const why = `the fixes could not be applied: fix: true needs ${dir} to be in a git work tree (to snapshot and diff the fixes)`;
    expect(r.result?.summary).toBe(`1 issue (a 1 error) — ${why}`);
    expect(r.outputTail).toContain(why);
  });

  it('plans the fixes in a dry run and changes nothing', async () => {
    const dir = tempDir();
    const repo = makeQualityRepo(join(dir, 'repo'));
    const before = fingerprint(repo);
    const r = await quality(
      dir,
      '      cwd: repo\n      fix: true\n      verify: npm test\n      tools: [eslint, tsc, prettier]\n',
      {
        dryRun: true,
      },
    );
    expect(r.result?.plan).toEqual([
      `take a rollback point of the files git sees under ${repo}`,
      'run `eslint --fix .` (eslint: 3 issues)',
      'run `prettier --write .` (prettier: 1 issue)',
      're-run the checks and `npm test`',
      'keep the fixes only if it exits 0 and the issues do not grow; otherwise restore the files',
    ]);
    expect(r.result?.issuesFound).toBe(5);
    expect(fingerprint(repo)).toEqual(before);
  });
});
