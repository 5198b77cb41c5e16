/**
 * What a rotate-logs task touches, declared before it runs: the globs of each log's family (the
 * log, its numbered and dated generations, compressed or not, in its directory or olddir) for
 * `rollback: true`, and the roots the load-time PathGuard checks.
 */
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { escapePath, isDynamicPattern } from 'tinyglobby';
import type { ActionTarget } from '../types.js';
import { rootOf } from './collect.js';
import { hasDatePlaceholders } from './naming.js';
import type { RotateLogsOptions } from './schema.js';

/** The part of an olddir before its first date placeholder (`archive/%Y/%m` → `archive`). */
function olddirBase(olddir: string): string {
  const parts = olddir.split(sep);
  const i = parts.findIndex((p) => hasDatePlaceholders(p));
  return i < 0 ? olddir : parts.slice(0, i).join(sep) || sep;
}

/** The log's name without `extension` (`app.log` with `.log` → `app`): every generation starts so. */
function stemGlob(base: string, extension: string | undefined, dynamic: boolean): string {
  const stem =
    extension !== undefined && base.length > extension.length && base.endsWith(extension)
      ? base.slice(0, -extension.length)
      : base;
  const glob = dynamic ? stem : escapePath(stem);
  // `*` + `*` would be a globstar (every file below): one star is enough.
  return glob.endsWith('*') ? glob : `${glob}*`;
}

export function rotateModifies(o: RotateLogsOptions, resolvePath: (p: string) => string): string[] {
  const out = new Set<string>();
  for (const p of o.paths) {
    const abs = resolvePath(p);
    const dynamic = isDynamicPattern(p);
    const dirPart = dynamic ? dirname(abs) : escapePath(dirname(abs));
    const family = stemGlob(basename(abs), o.extension, dynamic);
    out.add(`${dirPart}/${family}`);
    if (o.olddir === undefined) continue;
    if (hasDatePlaceholders(o.olddir)) {
      // Dated directories are created by the rotation: the whole base holds them.
      const base = olddirBase(o.olddir);
      out.add(isAbsolute(base) ? base : join(dirPart, base));
    } else {
      const dir = isAbsolute(o.olddir) ? escapePath(o.olddir) : `${dirPart}/${escapePath(o.olddir)}`;
      out.add(`${dir}/${family}`);
    }
  }
  return [...out];
}

export function rotateTargets(o: RotateLogsOptions, resolvePath: (p: string) => string): ActionTarget[] {
  const out: ActionTarget[] = o.paths.map((p, i) => ({ key: ['paths', i], path: rootOf(resolvePath(p)) }));
  if (o.olddir !== undefined && isAbsolute(o.olddir))
    out.push({ key: ['olddir'], path: olddirBase(o.olddir) });
  return out;
}
