/**
 * A package's declared licence as an SPDX expression, or why it cannot be one. Reads what npm's
 * package.json has held over the years (`license: "MIT"`, `license: { type }`, `licenses: [...]`)
 * and the free-text spellings that are common enough to name safely (`Apache 2.0`).
 */
import parse from 'spdx-expression-parse';

export type LicenseInfo =
  | { readonly kind: 'spdx'; readonly expression: string; readonly tree: parse.Info }
  | { readonly kind: 'unknown'; readonly raw: string | null; readonly why: string };

// Non-SPDX spellings seen in real trees whose meaning is not in doubt. "BSD" alone is left out on
// purpose: it does not say which BSD.
const ALIASES: Readonly<Record<string, string>> = {
  'apache 2.0': 'Apache-2.0',
  'apache-2': 'Apache-2.0',
  'apache 2': 'Apache-2.0',
  'apache license 2.0': 'Apache-2.0',
  'apache license, version 2.0': 'Apache-2.0',
  'apache software license': 'Apache-2.0',
  'mit license': 'MIT',
  'the mit license': 'MIT',
  'mit/x11': 'MIT',
  'isc license': 'ISC',
  'bsd-3': 'BSD-3-Clause',
  'bsd 3-clause': 'BSD-3-Clause',
  'bsd-2': 'BSD-2-Clause',
  'bsd 2-clause': 'BSD-2-Clause',
  'new bsd license': 'BSD-3-Clause',
  'simplified bsd license': 'BSD-2-Clause',
  'mpl-2': 'MPL-2.0',
  'mpl 2.0': 'MPL-2.0',
  psf: 'PSF-2.0',
  'public domain': 'LicenseRef-Public-Domain',
};

/** An SPDX expression (or a well-known alias of one) → its parse tree; anything else → unknown. */
export function licenseFromText(text: string | null | undefined): LicenseInfo {
  const raw = typeof text === 'string' ? text.trim() : '';
  if (raw === '') return { kind: 'unknown', raw: null, why: 'no licence declared' };
  if (raw === 'UNLICENSED')
    return { kind: 'unknown', raw, why: 'UNLICENSED: not licensed for use by others' };
  const see = /^SEE LICEN[CS]E IN (.+)$/i.exec(raw);
  if (see) return { kind: 'unknown', raw, why: `custom licence in ${see[1]}` };
  for (const candidate of [raw, ALIASES[raw.toLowerCase()]]) {
    if (!candidate) continue;
    try {
      return { kind: 'spdx', expression: candidate, tree: parse(candidate) };
    } catch {
      // not SPDX; try the alias, then give up
    }
  }
  const shown = raw.split('\n')[0]!.slice(0, 80);
  return { kind: 'unknown', raw: shown, why: `not an SPDX expression: ${shown}` };
}

function typeOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string')
    return (v as { type: string }).type;
  return null;
}

/** The licence of a package.json, legacy forms included. */
export function licenseFromPackageJson(pkg: Record<string, unknown>): LicenseInfo {
  if (pkg.license !== undefined) {
    const t = typeOf(pkg.license);
    return t === null ? { kind: 'unknown', raw: null, why: 'unreadable license field' } : licenseFromText(t);
  }
  // The old `licenses: [{ type, url }]` array listed licences to choose from: npm's docs rewrite
  // it as "(A OR B)".
  if (Array.isArray(pkg.licenses) && pkg.licenses.length > 0) {
    const types = pkg.licenses.map(typeOf);
    if (types.some((t) => t === null))
      return { kind: 'unknown', raw: null, why: 'unreadable licenses field' };
    const parts = types.map((t) => licenseFromText(t));
    const bad = parts.find((p) => p.kind === 'unknown');
    if (bad) return bad;
    const expr = parts.map((p) => (p.kind === 'spdx' ? p.expression : '')).join(' OR ');
    return licenseFromText(parts.length > 1 ? `(${expr})` : expr);
  }
  return { kind: 'unknown', raw: null, why: 'no licence declared' };
}
