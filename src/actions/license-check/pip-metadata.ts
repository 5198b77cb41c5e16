/**
 * Licences of installed Python distributions, from their `*.dist-info/METADATA` (or
 * `*.egg-info/PKG-INFO`): `License-Expression` (PEP 639) first, then a `License` field that is an
 * SPDX expression, then the trove classifiers mapped to SPDX for the common licences.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledPackage } from './installed-package.js';
import { licenseFromText, type LicenseInfo } from './license-text.js';
import { normalizePipName } from '../deps/pip-reports.js';

const CLASSIFIERS: Readonly<Record<string, string>> = {
  'MIT License': 'MIT',
  'MIT No Attribution License (MIT-0)': 'MIT-0',
  'Apache Software License': 'Apache-2.0',
  'ISC License (ISCL)': 'ISC',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'GNU Affero General Public License v3': 'AGPL-3.0-only',
  'GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'Python Software Foundation License': 'PSF-2.0',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'Historical Permission Notice and Disclaimer (HPND)': 'HPND',
  'Zope Public License': 'ZPL-2.1',
  'Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
};

export interface DistMetadata {
  readonly name: string;
  readonly version: string;
  readonly license: LicenseInfo;
}

/** The header block of a core-metadata file (RFC 822 style, continuation lines indented). */
function headers(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (long description) starts here
    if (/^\s/.test(line) && out.length > 0) out[out.length - 1]![1] += `\n${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) out.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  return out;
}

export function parseDistMetadata(text: string): DistMetadata | null {
  const h = headers(text);
  const get = (k: string) => h.find(([key]) => key === k)?.[1];
  const name = get('name');
  if (!name) return null;
  const version = get('version') ?? '0';
  const expression = get('license-expression');
  if (expression) return { name, version, license: licenseFromText(expression) };
  const field = get('license');
  const fromField = field && field !== 'UNKNOWN' ? licenseFromText(field) : null;
  if (fromField?.kind === 'spdx') return { name, version, license: fromField };
  const classified = h
    .filter(([k, v]) => k === 'classifier' && v.startsWith('License :: '))
    .map(([, v]) => v.split(' :: ').pop()!);
  const mapped = [...new Set(classified.map((c) => CLASSIFIERS[c]).filter((s): s is string => !!s))];
  // Several licence classifiers mean the author offers each: a choice, so OR.
  if (mapped.length > 0) return { name, version, license: licenseFromText(mapped.join(' OR ')) };
  if (fromField) return { name, version, license: fromField };
  if (classified.length > 0)
    return {
      name,
      version,
      license: {
        kind: 'unknown',
        raw: classified.join('; '),
        why: `classifier names no single licence: ${classified.join('; ')}`,
      },
    };
  return { name, version, license: { kind: 'unknown', raw: null, why: 'no licence declared' } };
}

/** Distributions installed in these directories; the first of a name wins, as on sys.path. */
export async function readSitePackages(dirs: readonly string[]): Promise<InstalledPackage[]> {
  const seen = new Set<string>();
  const out: InstalledPackage[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const e of entries.sort()) {
      const file = e.endsWith('.dist-info') ? 'METADATA' : e.endsWith('.egg-info') ? 'PKG-INFO' : null;
      if (!file) continue;
      const text = await readFile(join(dir, e, file), 'utf8').catch(() => null);
      const meta = text === null ? null : parseDistMetadata(text);
      if (!meta || seen.has(normalizePipName(meta.name))) continue;
      seen.add(normalizePipName(meta.name));
      out.push({
        manager: 'pip',
        name: meta.name,
        version: meta.version,
        path: join(dir, e),
        license: meta.license,
      });
    }
  }
  return out;
}
