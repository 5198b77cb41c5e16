/** Parsers for `pip list --outdated --format=json` and `pip list --format=json`. */
import type { OutdatedPackage } from './dep-types.js';
import type { Report } from './npm-reports.js';
import { updateLevel } from './versions.js';

function list(stdout: string, what: string): Report<Record<string, unknown>[]> {
  try {
    const parsed = JSON.parse(stdout.trim() || '[]') as unknown;
    if (!Array.isArray(parsed)) return { ok: false, reason: `${what} did not print a JSON list` };
    return {
      ok: true,
      value: parsed.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null),
    };
  } catch {
    return {
      ok: false,
      reason: `unreadable output of ${what}: ${stdout.trim().split('\n')[0] ?? '(empty)'}`,
    };
  }
}

export function parsePipOutdated(stdout: string): Report<OutdatedPackage[]> {
  const r = list(stdout, 'pip list --outdated');
  if (!r.ok) return r;
  return {
    ok: true,
    value: r.value
      .filter((p) => typeof p.name === 'string' && typeof p.latest_version === 'string')
      .map((p) => {
        const current = typeof p.version === 'string' ? p.version : null;
        const latest = p.latest_version as string;
        return {
          manager: 'pip' as const,
          name: p.name as string,
          current,
          wanted: null,
          latest,
          level: updateLevel(current, latest),
        };
      }),
  };
}

/** PEP 503 normalised names: pip treats Foo_Bar, foo-bar and foo.bar as one package. */
export function normalizePipName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function parsePipInstalled(stdout: string): Report<Map<string, string>> {
  const r = list(stdout, 'pip list');
  if (!r.ok) return r;
  return {
    ok: true,
    value: new Map(
      r.value
        .filter((p) => typeof p.name === 'string' && typeof p.version === 'string')
        .map((p) => [normalizePipName(p.name as string), p.version as string]),
    ),
  };
}

/** pip prints why it could not reach an index on stderr and still exits 0 with what it found. */
export function pipIndexTrouble(stderr: string): string | null {
  const line = stderr
    .split('\n')
    .find((l) =>
      /Could not fetch URL|NewConnectionError|Max retries exceeded|Failed to establish|Name or service not known|ReadTimeoutError/.test(
        l,
      ),
    );
  if (!line) return null;
  const cause = /Failed to establish a new connection: ([^'"]+)/.exec(line)?.[1]?.trim();
  const url = /(https?:\/\/[^\s'"]+|\/simple\/[^\s'":]+)/.exec(line.slice(line.lastIndexOf("')")))?.[1];
  if (cause) return `cannot connect${url ? ` for ${url}` : ''} (${cause})`;
  return line.replace(/^WARNING:\s*/, '').trim();
}
