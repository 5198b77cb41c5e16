/**
 * The rerun command. How to run only some tests is the runner's business, so `rerun_command` is a
 * template: `{tests}` becomes the failing tests' names (each shell-quoted in a string command, each
 * its own argument in a list), `{pattern}` one anchored regular expression matching exactly those
 * names (for node's `--test-name-pattern`, jest's `-t`, pytest's `-k` needs `{tests}`). Without a
 * template the whole command runs again.
 */
import type { TestCase } from './junit.js';

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function namePattern(names: readonly string[]): string {
  const escaped = [...new Set(names)].map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return `^(?:${escaped.join('|')})$`;
}

export function rerunCommand(
  template: string | readonly string[],
  failed: readonly TestCase[],
): string | string[] {
  const names = [...new Set(failed.map((t) => t.name))];
  const pattern = namePattern(names);
  if (typeof template === 'string')
    return (
      template
        // Replacer functions: a `$'` or `$&` in a name or the pattern is text, not a replace pattern.
        .replaceAll('{tests}', () => names.map(shellQuote).join(' '))
        .replaceAll('{pattern}', () => shellQuote(pattern))
    );
  return template.flatMap((arg) =>
    arg === '{tests}'
      ? names
      : [arg.replaceAll('{pattern}', () => pattern).replaceAll('{tests}', () => names.join(' '))],
  );
}
