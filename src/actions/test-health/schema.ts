/** The `with:` options of `test-health`. */
import { z } from 'zod';
import { envMap, stringList } from '../../schema/values.js';

const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...] (run directly)',
});
const percent = z.number({ error: 'expected a percentage from 0 to 100' }).min(0).max(100);

export const schema = z.strictObject({
  command: command.describe('The test command: a line run by /bin/sh -c, or [program, args...].'),
  cwd: z
    .string()
    .optional()
    .describe('The project directory, relative to the config file. @default its directory'),
  env: envMap().optional().describe('Extra environment variables for the test command.'),
  junit: stringList('a glob').describe(
    'JUnit XML files the command writes (globs, relative to cwd), e.g. reports/*.xml.',
  ),
  coverage: stringList('a path or glob')
    .optional()
    .describe(
      'Coverage summaries: istanbul coverage-summary.json, lcov.info or Cobertura XML (format read from the content).',
    ),
  min_coverage: z
    .union(
      [
        percent,
        z.strictObject({
          lines: percent.optional(),
          branches: percent.optional(),
          functions: percent.optional(),
          statements: percent.optional(),
        }),
      ],
      { error: 'expected a percentage (for lines) or { lines, branches, functions, statements }' },
    )
    .optional()
    .describe('Coverage below this fails the task: a number is the lines percentage, or one per metric.'),
  slowest: z.number().int().min(0).optional().describe('How many of the slowest tests to list. @default 10'),
  rerun_failed: z
    .union([z.literal(0), z.literal(1), z.boolean()], { error: 'expected 0 or 1' })
    .optional()
    .transform((v) => v === 1 || v === true)
    .describe(
      'Run failing tests once more: failing then passing is flaky, failing twice is broken. @default 0',
    ),
  rerun_command: command
    .optional()
    .describe(
      "The rerun: {tests} becomes the failing tests' names, {pattern} a regex matching exactly them. @default the command",
    ),
});
