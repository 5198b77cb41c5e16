/**
 * An import's promise: what it prints passes `caretaker validate`. The rendered tasks are loaded
 * exactly as a caretaker.yaml holding them would be; a task the loader refuses is left out, with a
 * warning that says where it came from and why, and the rest is checked again.
 */
import { join } from 'node:path';
import { loadedBuiltinRegistry } from '../../actions/builtin-loaded.js';
import { ConfigError } from '../../errors/config-error.js';
import { parseConfigText } from '../load.js';

export interface ImportedItem {
  readonly id: string;
}

export function keepValid<T extends ImportedItem>(
  tasks: readonly T[],
  render: (tasks: readonly T[]) => string,
  origin: (task: T) => string,
  warnings: string[],
): T[] {
  const registry = loadedBuiltinRegistry();
  // Relative paths and the default state dir resolve as in a caretaker.yaml here.
  const file = join(process.cwd(), 'caretaker.yaml');
  let kept = [...tasks];
  for (;;) {
    try {
      parseConfigText(`version: 1\n${render(kept)}`, file, { registry });
      return kept;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const why = new Map<string, string[]>();
      for (const issue of err.issues) {
        const task = kept.find(
          (t) => issue.path === `tasks.${t.id}` || issue.path.startsWith(`tasks.${t.id}.`),
        );
        if (!task) throw new Error(`imported tasks fail to load outside any task: ${err.message}`);
        const rest = issue.path.slice(`tasks.${task.id}.`.length);
        why.set(task.id, [...(why.get(task.id) ?? []), `${rest ? `${rest}: ` : ''}${issue.message}`]);
      }
      for (const t of kept)
        if (why.has(t.id))
          warnings.push(`${origin(t)}: left out: caretaker would refuse it (${why.get(t.id)!.join('; ')})`);
      kept = kept.filter((t) => !why.has(t.id));
    }
  }
}
