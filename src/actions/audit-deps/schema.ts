/** The `with:` options of `audit-deps`. */
import { z } from 'zod';
import { stringList } from '../../schema/values.js';
import { SEVERITIES } from '../deps/dep-types.js';

const MANAGERS = ['npm', 'pip'] as const;

export const schema = z.strictObject({
  manager: z
    .union([z.enum(['auto', ...MANAGERS]), z.array(z.enum(MANAGERS)).min(1)], {
      error: 'expected auto, npm, pip, or a list such as [npm, pip]',
    })
    .optional()
    .describe(
      'Package managers to audit. auto: npm when package.json exists, pip for a Python project. @default auto',
    ),
  cwd: z
    .string()
    .optional()
    .describe('The project directory, relative to the config file. @default its directory'),
  severity: z
    .enum(SEVERITIES)
    .optional()
    .describe('Advisories at or above this severity fail the task; lower ones are listed. @default high'),
  outdated: z
    .boolean()
    .optional()
    .describe('Report outdated packages (major/minor/patch counts). @default true'),
  required: stringList('a package name').optional().describe('Packages that must be installed.'),
  update: z
    .enum(['patch', 'minor'])
    .optional()
    .describe(
      'Update npm dependencies this far, inside a rollback point, keeping them only if the tests pass.',
    ),
  test_command: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe('Run after an update; a failure rolls the update back. @default npm test'),
  python: z.string().min(1).optional().describe('The Python whose pip is audited. @default python3'),
  pip_path: stringList('a directory')
    .optional()
    .describe('Only packages installed in these directories (pip list --path), e.g. a vendored target dir.'),
});
