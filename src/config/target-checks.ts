/**
 * Load-time path safety: every root a task's action acts on (its `targets()`) and every
 * `rollback: { paths }` entry goes through the PathGuard — the same check the actions make when
 * they start — so `caretaker validate` refuses `/`, the home directory, the state dir, a link to
 * one of them, and a link named as a root where the action does not follow links.
 */
import { isAbsolute, resolve } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import type { ActionRegistry } from '../actions/registry.js';
import { walkRoot } from '../safety/expand-paths.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import type { KeyPath } from '../schema/source-map.js';
import type { PathMessage } from '../schema/zod-issues.js';
import { DEFAULTS } from './resolve.js';

type Raw = Record<string, unknown>;

const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The path is named once: the guard's messages start with it, then say what is wrong. */
function messageOf(err: UnsafePathError, what: string): string {
  return err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
}

export function checkTargets(
  raw: Raw,
  options: ReadonlyMap<string, unknown>,
  registry: ActionRegistry,
  dir: string,
): PathMessage[] {
  const abs = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(dir, p));
  const stateDir = abs(typeof raw.state_dir === 'string' ? raw.state_dir : DEFAULTS.stateDir);
  const guard = new PathGuard({ stateDir });
  const problems: PathMessage[] = [];
  const check = (path: KeyPath, root: string, rule: Parameters<PathGuard['checkRootSync']>[2]) => {
    const what = resolve(root);
    try {
      guard.checkRootSync(root, what, rule);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      problems.push({ path, message: messageOf(err, what) });
    }
  };
  const tasks = isMap(raw.tasks) ? raw.tasks : {};
  for (const [id, task] of Object.entries(tasks)) {
    if (!isMap(task)) continue;
    const action = typeof task.action === 'string' ? registry.get(task.action) : undefined;
    if (action?.targets && options.has(id)) {
      for (const t of action.targets(options.get(id), abs)) {
        check(['tasks', id, 'with', ...t.key], t.path, { links: t.links, role: t.role });
      }
    }
    const rollback = task.rollback;
    if (isMap(rollback) && Array.isArray(rollback.paths)) {
      rollback.paths.forEach((p, i) => {
        if (typeof p !== 'string' || p === '') return;
        const root = isDynamicPattern(p) ? walkRoot(p, dir).dir : abs(p);
        check(['tasks', id, 'rollback', 'paths', i], root, {});
      });
    }
  }
  return problems;
}
