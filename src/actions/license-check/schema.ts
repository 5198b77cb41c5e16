/** The `with:` options of `license-check`. */
import { createRequire } from 'node:module';
import type parse from 'spdx-expression-parse';
import { z } from 'zod';
import { stringList } from '../../schema/values.js';

const MANAGERS = ['npm', 'pip'] as const;

// The SPDX parser reads the licence and exception lists when loaded: only a config with a
// license-check task pays for it, when the task is validated.
const require = createRequire(import.meta.url);
let loaded: typeof parse | undefined;
const spdxParse = (s: string) => (loaded ??= require('spdx-expression-parse') as typeof parse)(s);

/** A schema check for allow/deny entries: one SPDX id (with `+` or `WITH` at most), not AND/OR. */
function isSimpleLicense(id: string, parser: (s: string) => parse.Info): boolean {
  try {
    return !('conjunction' in parser(id));
  } catch {
    return false;
  }
}

const spdxIds = (what: string) =>
  stringList(what).refine((ids) => ids.every((id) => isSimpleLicense(id, spdxParse)), {
    error: 'expected SPDX licence ids such as MIT, Apache-2.0, GPL-2.0-or-later (one id each, no AND/OR)',
  });

export const schema = z
  .strictObject({
    manager: z
      .union([z.enum(['auto', ...MANAGERS]), z.array(z.enum(MANAGERS)).min(1)], {
        error: 'expected auto, npm, pip, or a list such as [npm, pip]',
      })
      .optional()
      .describe(
        'Whose packages: auto is npm when node_modules exists, pip for a Python project. @default auto',
      ),
    cwd: z
      .string()
      .optional()
      .describe('The project directory, relative to the config file. @default its directory'),
    allow: spdxIds('an SPDX id')
      .optional()
      .describe('SPDX ids that may be used; a package passes when its expression can be met with them.'),
    deny: spdxIds('an SPDX id')
      .optional()
      .describe('SPDX ids that may not be used; with no allow list, anything not denied passes.'),
    unknown: z
      .enum(['fail', 'warn'])
      .optional()
      .describe('A package with no licence or a non-SPDX one: fail the run, or only warn. @default fail'),
    ignore: stringList('a package name or name@version')
      .optional()
      .describe('Packages accepted whatever their licence (name, or name@version for one version).'),
    dev: z
      .boolean()
      .optional()
      .describe('Check npm devDependencies too; false skips those the lockfile marks dev. @default true'),
    python: z.string().min(1).optional().describe('The Python whose sys.path is searched. @default python3'),
    pip_path: stringList('a directory')
      .optional()
      .describe('Read Python packages from these directories instead of the sys.path of python.'),
  })
  .refine((o) => o.allow !== undefined || o.deny !== undefined, {
    error: 'set allow, deny or both: a licence check needs a policy',
  });
