import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCaretaker } from '../../src/create-caretaker.js';
import { defineAction } from '../../src/actions/types.js';
import { ManualClock } from '../../src/engine/clock.js';
import { tempDir } from '../support/tmp.js';

/** An action that edits files inside ctx.withRollbackPoint and keeps the change only if told to. */
const fixer = defineAction({
  name: 'fixer',
  description: 'edits src/ and keeps the edit when verify passes',
  schema: z.strictObject({ verify: z.enum(['pass', 'fail', 'throw']) }),
  async run(ctx, o) {
    const guarded = await ctx.withRollbackPoint(
      ['src'],
      async () => {
        writeFileSync(ctx.resolvePath('src/main.ts'), 'export const fixed = true;\n');
        writeFileSync(ctx.resolvePath('src/generated.ts'), '// new\n');
        if (o.verify === 'throw') throw new Error('formatter crashed');
        return { verified: o.verify === 'pass' };
      },
      { keep: (v) => v.verified, label: 'format fix' },
    );
    return {
      ok: true,
      summary: guarded.kept ? 'fix kept' : 'fix rolled back',
      details: { point: guarded.point, kept: guarded.kept, restored: guarded.restore?.restored ?? [] },
    };
  },
});

async function runFixer(verify: string) {
  const dir = tempDir();
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.ts'), 'export const fixed = false;\n');
  const ct = createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  fix:\n    action: fixer\n    with: { verify: ${verify} }\n`,
    baseDir: dir,
    clock: new ManualClock(Date.now()),
    actions: [fixer],
  });
  try {
    const run = await ct.runNow('fix');
    return { dir, run, points: await ct.listRollbacks() };
  } finally {
    await ct.close();
  }
}

describe('ctx.withRollbackPoint', () => {
  it('keeps a change that passes verification, with the point kept for a later rollback', async () => {
    const { dir, run, points } = await runFixer('pass');
    expect(run.result).toMatchObject({ summary: 'fix kept', details: { point: 'rb-1', kept: true } });
    expect(readFileSync(join(dir, 'src', 'main.ts'), 'utf8')).toContain('true');
    expect(points).toMatchObject([{ id: 'rb-1', kind: 'scoped', task: 'fix', label: 'format fix' }]);
  });

  it('restores the files when verification fails', async () => {
    const { dir, run } = await runFixer('fail');
    expect(run.result).toMatchObject({ summary: 'fix rolled back', details: { kept: false } });
    expect(readFileSync(join(dir, 'src', 'main.ts'), 'utf8')).toBe('export const fixed = false;\n');
    expect(existsSync(join(dir, 'src', 'generated.ts'))).toBe(false);
  });

  it('restores the files and fails the run when the change throws', async () => {
    const { dir, run } = await runFixer('throw');
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('formatter crashed');
    expect(run.outputTail).toMatch(/rolled back to rb-1: 1 restored, 1 deleted/);
    expect(readFileSync(join(dir, 'src', 'main.ts'), 'utf8')).toBe('export const fixed = false;\n');
  });
});
