/** Just enough semver for update levels and picking update targets (no ranges). */
import type { UpdateLevel } from './dep-types.js';

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre: string | null;
}

export function parseVersion(text: string): Version | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!m) {
    // PEP 440 releases such as 2.1 or 1.43: the missing parts are zero.
    const loose = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
    return loose ? { major: +loose[1]!, minor: +(loose[2] ?? 0), patch: +(loose[3] ?? 0), pre: null } : null;
  }
  return { major: +m[1]!, minor: +m[2]!, patch: +m[3]!, pre: m[4] ?? null };
}

export function compareVersions(a: Version, b: Version): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    (a.pre === b.pre ? 0 : a.pre === null ? 1 : b.pre === null ? -1 : a.pre < b.pre ? -1 : 1)
  );
}

export function updateLevel(current: string | null, latest: string): UpdateLevel {
  const a = current === null ? null : parseVersion(current);
  const b = parseVersion(latest);
  if (!a || !b) return 'other';
  if (b.major !== a.major) return 'major';
  if (b.minor !== a.minor) return 'minor';
  if (b.patch !== a.patch) return 'patch';
  return 'other';
}

/**
 * The newest stable release above `current` that stays within `level`: the same major and minor
 * for patch, the same major for minor. Below 1.0.0 a minor bump may break (semver's own rule for
 * 0.x), so `minor` there stays within the same minor too.
 */
export function pickTarget(
  versions: readonly string[],
  current: string,
  level: 'patch' | 'minor',
): string | null {
  const cur = parseVersion(current);
  if (!cur) return null;
  let best: Version | null = null;
  let bestText: string | null = null;
  for (const text of versions) {
    const v = parseVersion(text);
    if (!v || v.pre !== null || compareVersions(v, cur) <= 0) continue;
    if (v.major !== cur.major) continue;
    if ((level === 'patch' || cur.major === 0) && v.minor !== cur.minor) continue;
    if (!best || compareVersions(v, best) > 0) {
      best = v;
      bestText = text;
    }
  }
  return bestText;
}
