/** The package-manager parsers on real captured output (see test/fixtures/audit-deps/README.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { advisoryStatement } from '../../src/actions/deps/advisory-summary.js';
import { parseNpmAudit, parseNpmOutdated } from '../../src/actions/deps/npm-reports.js';
import { parsePipOutdated, pipIndexTrouble } from '../../src/actions/deps/pip-reports.js';
import { pickTarget, updateLevel } from '../../src/actions/deps/versions.js';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'audit-deps', name), 'utf8');

describe('npm report parsers', () => {
  it('reads npm outdated --json into packages with update levels', () => {
    const r = parseNpmOutdated(fixture('npm-outdated.json'));
    expect(r).toEqual({
      ok: true,
      value: [
        {
          manager: 'npm',
          name: 'minimist',
          current: '1.2.5',
          wanted: '1.2.8',
          latest: '1.2.8',
          level: 'patch',
        },
        {
          manager: 'npm',
          name: 'mkdirp',
          current: '0.5.1',
          wanted: '0.5.6',
          latest: '3.0.1',
          level: 'major',
        },
        {
          manager: 'npm',
          name: 'semver',
          current: '5.7.1',
          wanted: '5.7.3',
          latest: '7.8.6',
          level: 'major',
        },
      ],
    });
    expect(parseNpmOutdated('', '')).toEqual({ ok: true, value: [] });
  });

  it('reads npm audit --json into advisories, following via chains to the packages they reach', () => {
    const r = parseNpmAudit(fixture('npm-audit.json'));
    expect(r).toEqual({
      ok: true,
      value: [
        {
          manager: 'npm',
          package: 'minimist',
          severity: 'critical',
          title: 'Prototype Pollution in minimist',
          url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h',
          range: '<0.2.4 || >=1.0.0 <1.2.6',
          affects: ['minimist', 'mkdirp'],
          fixAvailable: true,
          fixIsMajor: false,
        },
        {
          manager: 'npm',
          package: 'semver',
          severity: 'moderate',
          title: 'semver vulnerable to Regular Expression Denial of Service',
          url: 'https://github.com/advisories/GHSA-c2qf-rxjj-qqgw',
          range: '<5.7.2',
          affects: ['semver'],
          fixAvailable: true,
          fixIsMajor: false,
        },
      ],
    });
  });

  it('turns npm error objects into one-line reasons instead of failing', () => {
    expect(parseNpmAudit(fixture('npm-audit-refused.json'))).toEqual({
      ok: false,
      reason: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    });
    const unreachable = parseNpmOutdated('', fixture('npm-outdated-unreachable.json'));
    expect(unreachable.ok).toBe(false);
    expect(!unreachable.ok && unreachable.reason).toBe(
      'FetchError: request to http://127.0.0.1:9/minimist failed, reason: connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(parseNpmAudit('npm ERR! something odd')).toEqual({
      ok: false,
      reason: 'unreadable output of npm audit: npm ERR! something odd',
    });
  });
});

describe('pip report parser', () => {
  it('reads pip list --outdated --format=json', () => {
    const r = parsePipOutdated(fixture('pip-list-outdated.json'));
    if (!r.ok) throw new Error(r.reason);
    expect(r.value).toHaveLength(48);
    expect(r.value[0]).toEqual({
      manager: 'pip',
      name: 'annotated-types',
      current: '0.7.0',
      wanted: null,
      latest: '0.8.0',
      level: 'minor',
    });
    expect(r.value.find((p) => p.name === 'boto3')?.level).toBe('patch');
  });

  it('notices when pip could not reach the index', () => {
    expect(
      pipIndexTrouble(
        "WARNING: Retrying ...\nWARNING: Could not fetch URL https://pypi.org/simple/pip/: connection error: HTTPSConnectionPool(host='pypi.org', port=443)\n",
      ),
    ).toMatch(/^Could not fetch URL https:\/\/pypi.org\/simple\/pip\//);
    expect(
      pipIndexTrouble(
        "WARNING: Retrying (Retry(total=0)) after connection broken by 'NewConnectionError('<HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/six/\n",
      ),
    ).toBe('cannot connect for /simple/six/ ([Errno -2] Name or service not known)');
    expect(pipIndexTrouble("WARNING: Location 'file:///opt/x' is ignored\n")).toBeNull();
  });
});

describe('update levels and targets', () => {
  it('classifies the distance to the latest version', () => {
    expect(updateLevel('1.2.5', '1.2.8')).toBe('patch');
    expect(updateLevel('1.2.5', '1.3.0')).toBe('minor');
    expect(updateLevel('1.2.5', '2.0.0')).toBe('major');
    expect(updateLevel('1.43.11', '1.43.107')).toBe('patch');
    expect(updateLevel(null, '1.0.0')).toBe('other');
  });

  it('picks the newest stable version within the level (0.x minors count as breaking)', () => {
    const versions = ['1.2.5', '1.2.6', '1.2.8', '1.3.0', '1.4.0-beta.1', '2.0.0'];
    expect(pickTarget(versions, '1.2.5', 'patch')).toBe('1.2.8');
    expect(pickTarget(versions, '1.2.5', 'minor')).toBe('1.3.0');
    expect(pickTarget(['0.5.1', '0.5.6', '0.6.0', '1.0.0'], '0.5.1', 'minor')).toBe('0.5.6');
    expect(pickTarget(['1.2.5'], '1.2.5', 'patch')).toBeNull();
  });
});

describe('the advisories part of the audit-deps summary', () => {
  const base = { unchecked: [], advisories: [], severities: {}, failing: 0, threshold: 'high' } as const;
  const advisory = {
    manager: 'npm',
    package: 'x',
    severity: 'high',
    title: 't',
    url: null,
    range: null,
    affects: [],
    fixAvailable: false,
    fixIsMajor: false,
  } as const;

  it('never says "no advisories" of a manager whose advisories were not checked', () => {
    expect(advisoryStatement({ ...base, managers: ['npm'] })).toBe('no advisories');
    expect(advisoryStatement({ ...base, managers: ['pip'] })).toBe(
      'advisories not checked (pip has no audit)',
    );
    expect(advisoryStatement({ ...base, managers: ['npm', 'pip'] })).toBe(
      'no npm advisories; pip advisories not checked (pip has no audit)',
    );
    expect(advisoryStatement({ ...base, managers: ['npm'], unchecked: ['npm'] })).toBe(
      'advisories not checked (npm: see the warnings)',
    );
    expect(advisoryStatement({ ...base, managers: ['npm', 'pip'], unchecked: ['npm'] })).toBe(
      'advisories not checked (npm: see the warnings; pip has no audit)',
    );
    expect(
      advisoryStatement({
        ...base,
        managers: ['npm', 'pip'],
        advisories: [advisory],
        severities: { high: 1 },
        failing: 1,
      }),
    ).toBe('1 advisory (1 high), 1 at or above high; pip advisories not checked (pip has no audit)');
  });
});
