/**
 * The report readers on output the real tools printed in this test (tsc, prettier, eslint, and
 * ruff when it is installed), and on a ruff report recorded from ruff 0.16.9 for machines without it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseEslintJson,
  parsePrettierCheck,
  parseRuffJson,
  parseTsc,
  type ToolOutput,
} from '../../src/actions/code-quality/parsers.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';
import { WORKTREE_NODE_MODULES } from '../fixtures/code-quality/repo.js';

function run(cwd: string, program: string, args: string[]): ToolOutput {
  const r = spawnSync(program, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
}
const bin = (name: string) => join(WORKTREE_NODE_MODULES, '.bin', name);
const at = (i: { file: string | null; line?: number; column?: number; rule?: string; severity: string }) => [
  i.file,
  i.line,
  i.column,
  i.rule,
  i.severity,
];

describe('the tsc reader', () => {
  it('reads real tsc diagnostics, multi-line ones once, and a file-less error', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'a.ts'),
      'export const g: (a: string) => void = (a: number) => a;\nexport function f(n: number) { return n.foo; }\n',
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      '{ "compilerOptions": { "strict": true, "noEmit": true, "types": [] }, "files": ["a.ts"] }\n',
    );
    const out = run(dir, bin('tsc'), ['--noEmit', '--pretty', 'false', '-p', '.']);
    expect(out.exitCode).not.toBe(0);
    expect(out.stdout).toMatch(/\n {2}\S/); // the type error's indented elaboration
    const parsed = parseTsc('tsc', out, dir);
    expect(parsed.ok && parsed.issues.map(at)).toEqual([
      ['a.ts', 1, 14, 'TS2322', 'error'],
      ['a.ts', 2, 41, 'TS2339', 'error'],
    ]);
    // An option error has no file: it is still a finding, not "tsc did not run".
    const noInputs = run(dir, bin('tsc'), ['--noEmit', '--pretty', 'false', '--project', 'nope.json']);
    const g = parseTsc('tsc', noInputs, dir);
    expect(g.ok && g.issues.map((i) => [i.file, i.rule])).toEqual([[null, 'TS5058']]);
    // A crash or a missing tsc prints no diagnostics: not a report.
    expect(parseTsc('tsc', { stdout: '', stderr: 'sh: tsc: not found', exitCode: 127 }, dir)).toEqual({
      ok: false,
      reason: 'no tsc diagnostics (exit 127): sh: tsc: not found',
    });
  });
});

describe('the prettier --check reader', () => {
  it('names unformatted files and files it could not parse', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.js'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'ugly.js'), 'export const a   = 1\n');
    writeFileSync(join(dir, 'broken.js'), 'const y = (\n');
    const out = run(dir, bin('prettier'), ['--check', '.']);
    expect(out.exitCode).toBe(2);
    const parsed = parsePrettierCheck('prettier', out);
    expect(parsed.ok && parsed.issues.map((i) => [i.file, i.rule])).toEqual([
      ['broken.js', 'syntax'],
      ['ugly.js', 'format'],
    ]);
    const none = run(dir, bin('prettier'), ['--check', 'no-such-dir/**']);
    expect(parsePrettierCheck('prettier', none)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^no files named by prettier \(exit 2\): \[error\] No files matching/),
    });
  });
});

describe('the eslint reader', () => {
  it('reads a file eslint cannot parse as a fatal error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'eslint.config.js'), 'export default [{ rules: { "no-debugger": "warn" } }];\n');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'a.js'), 'debugger;\n');
    writeFileSync(join(dir, 'b.js'), 'const = ;\n');
    const out = run(dir, bin('eslint'), ['--format', 'json', '.']);
    expect(out.exitCode).toBe(1);
    const parsed = parseEslintJson('eslint', out, dir);
    expect(parsed.ok && parsed.issues.map(at)).toEqual([
      ['a.js', 1, 1, 'no-debugger', 'warning'],
      ['b.js', 1, 7, 'parse-error', 'error'],
    ]);
  });
});

describe('the ruff reader', () => {
  it('reads a recorded ruff 0.16.9 report', () => {
    const stdout = readFileSync(new URL('../fixtures/code-quality/ruff-check.json', import.meta.url), 'utf8');
    const parsed = parseRuffJson('ruff', { stdout, stderr: '', exitCode: 1 }, '/tmp/cqprobe');
    expect(parsed.ok && parsed.issues.map(at)).toEqual([
      ['a.py', 1, 1, 'I001', 'error'],
      ['a.py', 1, 8, 'F401', 'error'],
    ]);
  });

  const noRuff =
    spawnSync('ruff', ['--version']).status === 0
      ? undefined
      : skipBecause(
          'reading the real ruff',
          'ruff is not installed (pip install ruff; Debian bookworm has no package, npm only its wasm bindings)',
        );

  it.skipIf(noRuff)('reads the real ruff, when it is installed', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.py'), 'import os\nx = 1\nif x == None:\n    pass\n');
    const args = ['check', '--isolated', '--select', 'F401,E711', '--output-format', 'json', '.'];
    const out = run(dir, 'ruff', args);
    expect(out.exitCode).not.toBeNull();
    const parsed = parseRuffJson('ruff', out, dir);
    expect(parsed.ok && parsed.issues.map((i) => [i.file, i.line, i.rule])).toEqual([
      ['a.py', 1, 'F401'],
      ['a.py', 3, 'E711'],
    ]);
    expect(parseRuffJson('ruff', { stdout: '', stderr: 'error: unknown flag', exitCode: 2 }, dir)).toEqual({
      ok: false,
      reason: 'no ruff JSON report (exit 2): error: unknown flag',
    });
  });
});
