import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { licenseCheckAction } from '../../src/actions/license-check.js';
import { evaluate } from '../../src/actions/license-check/evaluate.js';
import { licenseFromPackageJson, licenseFromText } from '../../src/actions/license-check/license-text.js';
import { parseDistMetadata } from '../../src/actions/license-check/pip-metadata.js';
import { optionsError, runAction } from '../support/run-action.js';
import { spawnSync } from 'node:child_process';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';

interface Row {
  package: string;
  license: string | null;
  path: string;
  reason: string;
}
const rows = (r: { result: { details?: Record<string, unknown> } }, key: 'violations' | 'unknown') =>
  (r.result.details?.[key] as Row[]).map((v) => `${v.package} ${v.license} | ${v.reason} | ${v.path}`);

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

/**
 * A node_modules tree BUILT by the test (package.json files written here, not installed from the
 * registry), with known licences in every form npm has seen: SPDX ids and expressions, the legacy
 * `licenses` array and `license: { type }` object, none at all, `SEE LICENSE IN`, a scoped
 * package and a nested (transitive) one. package-lock.json marks apache-pkg as dev.
 */
function npmProject(dir: string): void {
  const nm = join(dir, 'node_modules');
  const pkg = (path: string, name: string, extra: Record<string, unknown>) =>
    writeJson(join(nm, path, 'package.json'), { name, version: '1.0.0', ...extra });
  writeJson(join(dir, 'package.json'), { name: 'app', version: '1.0.0', license: 'UNLICENSED' });
  pkg('mit-pkg', 'mit-pkg', { license: 'MIT' });
  pkg('apache-pkg', 'apache-pkg', { license: 'Apache-2.0' });
  pkg('dual-pkg', 'dual-pkg', { license: '(MIT OR GPL-3.0-only)' });
  pkg('gpl-pkg', 'gpl-pkg', { license: 'GPL-3.0-only' });
  pkg('and-pkg', 'and-pkg', { license: 'MIT AND BSD-3-Clause' });
  pkg('legacy-array', 'legacy-array', { licenses: [{ type: 'MIT', url: 'x' }, { type: 'Apache-2.0' }] });
  pkg('legacy-object', 'legacy-object', { license: { type: 'ISC', url: 'x' } });
  pkg('no-license', 'no-license', {});
  pkg('see-file', 'see-file', { license: 'SEE LICENSE IN LICENSE.txt' });
  pkg('@scope/scoped', '@scope/scoped', { license: 'ISC' });
  pkg('mit-pkg/node_modules/nested-gpl', 'nested-gpl', { license: 'GPL-2.0-only' });
  mkdirSync(join(nm, '.bin'));
  writeFileSync(join(nm, '.bin', 'tool'), '#!/bin/sh\n');
  writeJson(join(dir, 'package-lock.json'), {
    lockfileVersion: 3,
    packages: { '': {}, 'node_modules/apache-pkg': { dev: true }, 'node_modules/mit-pkg': {} },
  });
}

const PERMISSIVE = ['MIT', 'Apache-2.0', 'ISC', 'BSD-3-Clause'];

describe('license-check on an npm tree', () => {
  it('reads every package, nested and scoped, and reports violations and unknown licences', async () => {
    const dir = tempDir();
    npmProject(dir);
    const r = await runAction(licenseCheckAction, { allow: PERMISSIVE }, { baseDir: dir });
    expect(r.result.details?.packages).toBe(11);
    expect(rows(r, 'violations')).toEqual([
      'gpl-pkg@1.0.0 GPL-3.0-only | not allowed: GPL-3.0-only | node_modules/gpl-pkg',
      'nested-gpl@1.0.0 GPL-2.0-only | not allowed: GPL-2.0-only | node_modules/mit-pkg/node_modules/nested-gpl',
    ]);
    expect(rows(r, 'unknown')).toEqual([
      'no-license@1.0.0 null | no licence declared | node_modules/no-license',
      'see-file@1.0.0 SEE LICENSE IN LICENSE.txt | custom licence in LICENSE.txt | node_modules/see-file',
    ]);
    expect(r.result.ok).toBe(false);
    expect(r.result.issuesFound).toBe(4);
    expect(r.result.details?.byLicense).toMatchObject({
      MIT: 1,
      ISC: 2,
      '(MIT OR GPL-3.0-only)': 1,
      'MIT AND BSD-3-Clause': 1,
      '(MIT OR Apache-2.0)': 1,
      unknown: 2,
    });
    expect(r.result.summary).toBe(
      'npm: 11 packages, 2 violations, 2 unknown — gpl-pkg@1.0.0: GPL-3.0-only — not allowed: GPL-3.0-only (node_modules/gpl-pkg)',
    );
  });

  it('needs every side of AND allowed, and one side of OR', async () => {
    const dir = tempDir();
    npmProject(dir);
    const r = await runAction(licenseCheckAction, { allow: ['MIT'], unknown: 'warn' }, { baseDir: dir });
    const failed = rows(r, 'violations').map((v) => v.split(' ')[0]);
    expect(failed).toContain('and-pkg@1.0.0'); // BSD-3-Clause not allowed
    expect(failed).not.toContain('dual-pkg@1.0.0'); // MIT side suffices
    expect(failed).not.toContain('legacy-array@1.0.0'); // legacy array = (MIT OR Apache-2.0)
    expect(rows(r, 'violations')).toContain(
      'and-pkg@1.0.0 MIT AND BSD-3-Clause | not allowed: BSD-3-Clause | node_modules/and-pkg',
    );
  });

  it('with only deny, passes anything that can avoid the denied ids', async () => {
    const dir = tempDir();
    npmProject(dir);
    const r = await runAction(
      licenseCheckAction,
      { deny: 'GPL-3.0-only', unknown: 'warn' },
      { baseDir: dir },
    );
    expect(rows(r, 'violations')).toEqual([
      'gpl-pkg@1.0.0 GPL-3.0-only | denied: GPL-3.0-only | node_modules/gpl-pkg',
    ]);
    // unknown: warn — still counted and listed, but the run does not fail on them
    expect(r.result.ok).toBe(false);
    expect(r.result.issuesFound).toBe(3);
    expect(r.result.warnings).toContain('no-license@1.0.0: unknown licence — no licence declared');
  });

  it('accepts ignored packages by name or name@version and skips dev packages from the lockfile', async () => {
    const dir = tempDir();
    npmProject(dir);
    const r = await runAction(
      licenseCheckAction,
      {
        allow: ['MIT', 'ISC', 'BSD-3-Clause'],
        ignore: ['gpl-pkg', 'nested-gpl@1.0.0', 'no-license@2.0.0'],
        unknown: 'warn',
        dev: false,
      },
      { baseDir: dir },
    );
    expect(r.result.details?.ignored).toEqual(['gpl-pkg@1.0.0', 'nested-gpl@1.0.0']);
    expect(r.result.details?.devSkipped).toBe(1); // apache-pkg, which MIT/ISC/BSD would refuse
    expect(rows(r, 'violations')).toEqual([]);
    expect(r.result.ok).toBe(true); // only unknowns remain, and they warn
    expect(r.result.warnings?.length).toBe(2);
  });

  it('refuses bad options and a missing node_modules clearly', async () => {
    expect(optionsError(licenseCheckAction, { allow: ['Apache2'] })).toMatch(
      /^allow: expected SPDX licence ids/,
    );
    expect(optionsError(licenseCheckAction, { allow: ['MIT OR ISC'] })).toMatch(/no AND\/OR/);
    expect(optionsError(licenseCheckAction, {})).toMatch(/set allow, deny or both/);
    const dir = tempDir();
    const r = await runAction(licenseCheckAction, { manager: 'npm', allow: 'MIT' }, { baseDir: dir });
    expect(r.result.ok).toBe(false);
    expect(r.result.summary).toMatch(/node_modules does not exist: run npm install/);
  });

  it("reads this repository's own node_modules", async () => {
    const repo = resolve(import.meta.dirname, '../..');
    const started = performance.now();
    const r = await runAction(
      licenseCheckAction,
      {
        manager: 'npm',
        allow: [
          'MIT',
          'ISC',
          'Apache-2.0',
          'BSD-2-Clause',
          'BSD-3-Clause',
          '0BSD',
          'BlueOak-1.0.0',
          'CC0-1.0',
          'Python-2.0',
          'CC-BY-4.0',
          'MIT-0',
          'Unlicense',
          'WTFPL',
          'Zlib',
        ],
      },
      { baseDir: repo, stateDir: tempDir() },
    );
    const ms = Math.round(performance.now() - started);
    const packages = r.result.details?.packages as number;
    console.log(
      `license-check over this repo's node_modules: ${packages} packages in ${ms}ms`,
      r.result.details?.byLicense,
    );
    expect(packages).toBeGreaterThan(100);
    expect((r.result.details?.unknown as Row[]).length).toBeLessThanOrEqual(3);
  });
});

describe('license-check on Python packages', () => {
  it('reads dist-info and egg-info metadata from a site-packages dir', async () => {
    const dir = tempDir();
    const site = join(dir, 'site-packages');
    const dist = (name: string, headers: string, kind = 'dist-info') => {
      const file = kind === 'dist-info' ? 'METADATA' : 'PKG-INFO';
      mkdirSync(join(site, `${name}-1.0.${kind}`), { recursive: true });
      writeFileSync(
        join(site, `${name}-1.0.${kind}`, file),
        `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n${headers}\n\nLicense: GPL-3.0-only (this is the body, not a header)\n`,
      );
    };
    dist('pep639', 'License-Expression: MIT OR Apache-2.0\nLicense: GPL-3.0-only');
    dist('aliased', 'License: Apache 2.0');
    dist(
      'textual',
      'License: Permission is hereby granted, free of charge,\n        to any person\nClassifier: License :: OSI Approved :: MIT License',
    );
    dist(
      'gplv3',
      'License: UNKNOWN\nClassifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)',
    );
    dist('vague-bsd', 'Classifier: License :: OSI Approved :: BSD License');
    dist('nothing', 'Summary: no licence at all');
    dist('old-egg', 'License: ISC', 'egg-info');
    const r = await runAction(
      licenseCheckAction,
      { pip_path: 'site-packages', allow: PERMISSIVE },
      { baseDir: dir },
    );
    expect(r.result.details?.managers).toEqual(['pip']);
    expect(r.result.details?.packages).toBe(7);
    expect(rows(r, 'violations')).toEqual([
      `gplv3@1.0 GPL-3.0-only | not allowed: GPL-3.0-only | ${join(site, 'gplv3-1.0.dist-info')}`,
    ]);
    expect(rows(r, 'unknown').map((u) => u.split(' | ').slice(0, 2).join(' | '))).toEqual([
      'nothing@1.0 null | no licence declared',
      'vague-bsd@1.0 BSD License | classifier names no single licence: BSD License',
    ]);
    expect(r.result.details?.byLicense).toMatchObject({
      'MIT OR Apache-2.0': 1,
      'Apache-2.0': 1,
      MIT: 1,
      ISC: 1,
    });
  });

  const noPython =
    spawnSync('python3', ['--version']).status === 0
      ? undefined
      : skipBecause(
          "reading the real python3's site-packages",
          'python3 is not installed (apt-get install -y python3)',
        );

  it.skipIf(noPython)("reads the real python3's site-packages", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'requirements.txt'), '');
    const r = await runAction(
      licenseCheckAction,
      { deny: 'AGPL-3.0-only', unknown: 'warn' },
      { baseDir: dir },
    );
    expect(r.result.details?.managers).toEqual(['pip']);
    // Loose: what is installed varies by machine; it must be found and read without failing.
    expect(r.result.details?.packages as number).toBeGreaterThan(0);
    expect(r.result.summary).toMatch(/^pip: \d+ packages/);
  });

  it('says which Python is missing, in one line', async () => {
    const dir = tempDir();
    const r = await runAction(
      licenseCheckAction,
      { manager: 'pip', python: 'no-such-python3', allow: 'MIT' },
      { baseDir: dir },
    );
    expect(r.result.ok).toBe(false);
    expect(r.result.summary).toMatch(
      /no-such-python3 is not installed .*; install Python 3 or set python: or pip_path:$/,
    );
  });
});

describe('licence expressions', () => {
  it('normalises package.json forms and evaluates AND/OR', () => {
    expect(licenseFromPackageJson({ licenses: ['MIT'] })).toMatchObject({ kind: 'spdx', expression: 'MIT' });
    expect(licenseFromPackageJson({ license: 'UNLICENSED' })).toMatchObject({ kind: 'unknown' });
    expect(licenseFromText('BSD')).toMatchObject({ kind: 'unknown', why: 'not an SPDX expression: BSD' });
    const tree = (s: string) => {
      const l = licenseFromText(s);
      if (l.kind !== 'spdx') throw new Error(s);
      return l.tree;
    };
    expect(evaluate(tree('GPL-3.0-or-later'), { allow: ['GPL-2.0+'] })).toEqual({ ok: true });
    expect(evaluate(tree('Apache-2.0 WITH LLVM-exception'), { allow: ['Apache-2.0'] }).ok).toBe(false);
    expect(
      evaluate(tree('(MIT OR GPL-3.0-only) AND ISC'), {
        allow: ['ISC', 'GPL-3.0-only'],
        deny: ['GPL-3.0-only'],
      }),
    ).toEqual({
      ok: false,
      reason: 'denied: GPL-3.0-only',
    });
    expect(parseDistMetadata('Name: x\nVersion: 1\nLicense-Expression: MIT\n')?.license).toMatchObject({
      expression: 'MIT',
    });
  });
});
