/** The `with:` options of `code-quality`. */
import { z } from 'zod';
import { stringList } from '../../schema/values.js';
import { SEVERITIES } from './issues.js';
import { toolSchema } from './tools.js';

export const schema = z
  .strictObject({
    tools: z
      .array(toolSchema)
      .min(1)
      .optional()
      .describe(
        'Checkers to run: presets (eslint, tsc, prettier, ruff), a preset with overrides ({ preset: eslint, command: … }), or { name, command, format, fix_command? } with format eslint-json, tsc, ruff-json, prettier-check, sarif or exit-code.',
      ),
    cwd: z
      .string()
      .optional()
      .describe('The repository (or package) to check, relative to the config file. @default its directory'),
    fix: z
      .boolean()
      .optional()
      .describe(
        'Run the fix commands inside a rollback point, keeping the fixes only if verify passes. @default false',
      ),
    verify: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: 'expected a command line or [program, args…]',
      })
      .optional()
      .describe(
        'Run after the fixes (e.g. npm test); a non-zero exit rolls them back. @default none: fixes are kept unverified, with a warning',
      ),
    fail_on: z
      .enum([...SEVERITIES, 'never'])
      .optional()
      .describe(
        'Issues at or above this severity (left after fixing) fail the run; lower ones make it a warning. @default error',
      ),
    max_complexity: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Report TS/JS functions whose cyclomatic complexity is over this (as warnings).'),
    complexity_paths: stringList('a glob')
      .optional()
      .describe(
        'Files the complexity scan reads, relative to cwd. @default **/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}',
      ),
    complexity_ignore: stringList('a glob')
      .optional()
      .describe(
        'Globs the complexity scan leaves out. @default node_modules, dist, build, coverage, *.d.ts, *.min.js',
      ),
  })
  .refine((o) => o.tools !== undefined || o.max_complexity !== undefined, {
    message: 'nothing to check: give tools (e.g. [eslint, tsc, prettier]) or max_complexity',
  })
  .superRefine((o, ctx) => {
    // Results are keyed by tool name: two tools of one name would be counted as one.
    const seen = new Set<string>();
    for (const [i, t] of (o.tools ?? []).entries()) {
      // Runs even when an entry failed its own checks (zod 4), so nothing here may assume a valid one.
      const name = typeof t === 'string' ? t : (t.name ?? t.preset);
      if (name === undefined) continue;
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['tools', i],
          message: `a second tool named ${name}: give it its own name (name: ${name}-2)`,
        });
      seen.add(name);
    }
  });
