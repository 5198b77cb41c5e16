/**
 * Parsers for `npm outdated --json` and `npm audit --json` (npm 7 and later), including the JSON
 * error objects npm prints when the registry cannot be reached or refuses the request.
 */
import { SEVERITIES, type Advisory, type OutdatedPackage, type Severity } from './dep-types.js';
import { updateLevel } from './versions.js';

export type Report<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

function json(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // npm may print warnings before the JSON; take the outermost object.
    const start = trimmed.indexOf('{');
    const end = trimmed.lastIndexOf('}');
    if (start < 0 || end <= start) return undefined;
    try {
      return JSON.parse(trimmed.slice(start, end + 1)) as unknown;
    } catch {
      return undefined;
    }
  }
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** npm's error object (`{ error: { code, summary } }` or `{ message, statusCode }`) as one line. */
export function npmErrorReason(parsed: unknown): string | null {
  if (!isMap(parsed)) return null;
  const err = isMap(parsed.error) ? parsed.error : null;
  const message = typeof parsed.message === 'string' ? parsed.message : null;
  if (!err && !message) return null;
  const summary = err && typeof err.summary === 'string' && err.summary ? err.summary : null;
  const code = err && typeof err.code === 'string' ? err.code : null;
  const text = message ?? summary ?? code ?? 'npm reported an error';
  return (code && !text.includes(code) ? `${code}: ${text}` : text).split('\n')[0]!;
}

export function parseNpmOutdated(stdout: string, stderr = ''): Report<OutdatedPackage[]> {
  const parsed = json(stdout) ?? json(stderr);
  if (parsed === undefined) {
    return stdout.trim() === '' && stderr.trim() === ''
      ? { ok: true, value: [] } // nothing outdated: npm prints nothing at all
      : {
          ok: false,
          reason: `unreadable output of npm outdated: ${(stderr || stdout).trim().split('\n')[0]}`,
        };
  }
  const reason = npmErrorReason(parsed);
  if (reason) return { ok: false, reason };
  if (!isMap(parsed)) return { ok: false, reason: 'npm outdated did not print a JSON object' };
  const out: OutdatedPackage[] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    // With workspaces a package may be listed once per dependent.
    for (const entry of Array.isArray(raw) ? raw : [raw]) {
      if (!isMap(entry) || typeof entry.latest !== 'string') continue;
      const current = typeof entry.current === 'string' ? entry.current : null;
      out.push({
        manager: 'npm',
        name,
        current,
        wanted: typeof entry.wanted === 'string' ? entry.wanted : null,
        latest: entry.latest,
        level: updateLevel(current, entry.latest),
      });
    }
  }
  return { ok: true, value: out.sort((a, b) => a.name.localeCompare(b.name)) };
}

const asSeverity = (v: unknown): Severity =>
  (SEVERITIES as readonly unknown[]).includes(v) ? (v as Severity) : 'info';

export function parseNpmAudit(stdout: string): Report<Advisory[]> {
  const parsed = json(stdout);
  if (parsed === undefined)
    return {
      ok: false,
      reason: `unreadable output of npm audit: ${stdout.trim().split('\n')[0] ?? '(empty)'}`,
    };
  if (isMap(parsed) && !isMap(parsed.vulnerabilities)) {
    const reason = npmErrorReason(parsed);
    return { ok: false, reason: reason ?? 'npm audit printed no vulnerability report' };
  }
  const vulns = (parsed as { vulnerabilities: Record<string, unknown> }).vulnerabilities;
  // A vulnerable package lists advisories against itself (objects) and the dependencies it is
  // vulnerable through (names). Collect each advisory once, with every package it reaches.
  const byKey = new Map<string, { advisory: Omit<Advisory, 'affects'>; affects: Set<string> }>();
  const reach = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const v = vulns[name];
    const effects =
      isMap(v) && Array.isArray(v.effects) ? v.effects.filter((e): e is string => typeof e === 'string') : [];
    return [name, ...effects.flatMap((e) => reach(e, seen))];
  };
  for (const [name, raw] of Object.entries(vulns)) {
    if (!isMap(raw) || !Array.isArray(raw.via)) continue;
    const fix = raw.fixAvailable;
    for (const via of raw.via) {
      if (!isMap(via)) continue;
      const pkg = typeof via.name === 'string' ? via.name : name;
      const key = `${String(via.source ?? via.url ?? via.title)}@${pkg}`;
      const entry = byKey.get(key) ?? {
        advisory: {
          manager: 'npm' as const,
          package: pkg,
          severity: asSeverity(via.severity),
          title: typeof via.title === 'string' ? via.title : '(untitled advisory)',
          url: typeof via.url === 'string' ? via.url : null,
          range: typeof via.range === 'string' ? via.range : null,
          fixAvailable: fix !== false && fix !== undefined,
          fixIsMajor: isMap(fix) && fix.isSemVerMajor === true,
        },
        affects: new Set<string>(),
      };
      for (const n of reach(name)) entry.affects.add(n);
      byKey.set(key, entry);
    }
  }
  const advisories = [...byKey.values()].map(({ advisory, affects }) => ({
    ...advisory,
    affects: [...affects].sort(),
  }));
  advisories.sort(
    (a, b) =>
      SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.package.localeCompare(b.package),
  );
  return { ok: true, value: advisories };
}
