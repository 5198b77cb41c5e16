/**
 * Where a database action connects: `url` (PostgreSQL, may carry a password), `url_env` (the
 * name of an environment variable holding that URL — the way to keep the password out of the
 * file) or `path` (a SQLite file). Exactly one of them.
 */
import { z } from 'zod';
import { redactUrl } from '../../core/redact-url.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const dbTargetShape = {
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' })
    .optional()
    .describe('PostgreSQL connection URL. Its password is never printed, logged or stored.'),
  url_env: z
    .string()
    .regex(ENV_NAME, { error: 'expected an environment variable name' })
    .optional()
    .describe(
      'Name of an environment variable holding the PostgreSQL URL (keeps the password out of the file).',
    ),
  path: z.string().min(1).optional().describe('SQLite database file, relative to the config file.'),
};

interface TargetOptions {
  readonly url?: string | undefined;
  readonly url_env?: string | undefined;
  readonly path?: string | undefined;
}

/** For `superRefine`: exactly one of url, url_env, path. */
export function checkOneTarget(o: TargetOptions, ctx: z.RefinementCtx): void {
  const given = (['url', 'url_env', 'path'] as const).filter((k) => o[k] !== undefined);
  if (given.length === 1) return;
  ctx.addIssue({
    code: 'custom',
    path: given.length === 0 ? [] : [given[1]!],
    message:
      given.length === 0
        ? 'needs a database: url (PostgreSQL), url_env (a variable holding that URL) or path (SQLite)'
        : `give only one of url, url_env and path (found ${given.join(' and ')})`,
  });
}

export type DbTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly shown: string }
  | { readonly kind: 'sqlite'; readonly path: string; readonly shown: string };

/** The target, or a one-line error (an unset variable). */
export function resolveDbTarget(
  o: TargetOptions,
  resolvePath: (p: string) => string,
): DbTarget | { readonly error: string } {
  if (o.path !== undefined) {
    const path = resolvePath(o.path);
    return { kind: 'sqlite', path, shown: path };
  }
  const url = o.url ?? (o.url_env !== undefined ? process.env[o.url_env] : undefined);
  if (url === undefined || url === '')
    return { error: `environment variable ${o.url_env} (url_env) is not set` };
  if (!/^postgres(ql)?:\/\//.test(url)) {
    return { error: `${o.url_env} does not hold a postgres:// URL` };
  }
  return { kind: 'postgres', url, shown: redactUrl(url) };
}
