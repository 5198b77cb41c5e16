/**
 * audit-deps end to end: the real npm and pip on a fixture project installed from the registry.
 * The advisory endpoint cannot be reached from this machine (its proxy answers 405), so one test
 * points npm at test/support/advisory-registry.ts, which stands in for that endpoint only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { SystemClock } from '../../src/engine/clock.js';
import type { RunRecord } from '../../src/store/types.js';
import { startAdvisoryRegistry } from '../support/advisory-registry.js';
import { copyNpmFixture, ensureNpmFixture } from '../support/npm-fixture.js';
import { fingerprint } from '../support/tree.js';
import { tempDir } from '../support/tmp.js';

let unavailable: string | undefined;
beforeAll(async () => {
  unavailable = await ensureNpmFixture();
  if (unavailable) console.warn(`audit-deps end-to-end tests skipped: ${unavailable}`);
}, 180_000);

const savedRegistry = process.env.npm_config_registry;
afterEach(() => {
  if (savedRegistry === undefined) delete process.env.npm_config_registry;
  else process.env.npm_config_registry = savedRegistry;
});

async function audit(dir: string, withYaml: string, opts: { dryRun?: boolean } = {}): Promise<RunRecord> {
  const ct = createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  deps:\n    action: audit-deps\n    with:\n${withYaml}`,
    baseDir: dir,
    clock: new SystemClock(),
  });
  try {
    return await ct.runNow('deps', opts);
  } finally {
    await ct.close();
  }
}

const installed = (app: string, name: string) =>
  (JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

/** Passes only while minimist is still 1.2.5: any update of it "breaks the tests". */
const PINNED_TEST = `node -e "process.exit(require('minimist/package.json').version === '1.2.5' ? 0 : 1)"`;

describe('audit-deps with npm', () => {
  it('reports outdated packages from the real registry, and an advisory service it cannot use as a warning', async (t) => {
    if (unavailable) return t.skip();
    const dir = tempDir();
    copyNpmFixture(dir);
    const r = await audit(dir, '      cwd: app\n');
    const packages = r.result?.details?.packages as { name: string; current: string; level: string }[];
    expect(packages.map((p) => [p.name, p.current])).toEqual([
      ['minimist', '1.2.5'],
      ['mkdirp', '0.5.1'],
      ['semver', '5.7.1'],
    ]);
    expect(packages.find((p) => p.name === 'mkdirp')?.level).toBe('major');
    const advisories = r.result?.details?.advisories as { package: string; severity: string }[];
    if (advisories.length === 0) {
      // Here: the proxy refuses the advisory endpoint. A warning, not a crash.
      expect(r.status).toBe('warning');
      expect(r.result?.warnings?.[0]).toMatch(/^npm audit could not get advisories: /);
    } else {
      // Where the real advisory service answers, minimist 1.2.5 has a critical advisory.
      expect(r.status).toBe('failed');
      expect(advisories).toContainEqual(
        expect.objectContaining({ package: 'minimist', severity: 'critical' }),
      );
    }
  });

  it('fails on advisories at or above the severity and lists the rest', async (t) => {
    if (unavailable) return t.skip();
    const dir = tempDir();
    copyNpmFixture(dir);
    const registry = await startAdvisoryRegistry();
    process.env.npm_config_registry = registry.url;
    try {
      const failing = await audit(dir, '      cwd: app\n      severity: high\n      outdated: false\n');
      expect(registry.asked.sort()).toEqual(['minimist', 'mkdirp', 'semver']);
      expect(failing.status).toBe('failed');
      expect(failing.result?.summary).toBe(
        'npm: 2 advisories (1 critical, 1 moderate), 1 at or above high — critical advisory in minimist <0.2.4 || >=1.0.0 <1.2.6: Prototype Pollution in minimist (https://github.com/advisories/GHSA-xvch-5gv4-984h)',
      );
      expect(failing.result?.details?.severities).toEqual({ critical: 1, moderate: 1 });
      const lenient = await audit(
        dir,
        '      cwd: app\n      severity: critical\n      outdated: false\n      required: [nope]\n',
      );
      expect(lenient.status).toBe('failed'); // critical is at or above critical
      expect(lenient.result?.details?.missing).toEqual(['npm:nope']);
      expect(lenient.result?.summary).toMatch(/\(and 1 more\)$/);
    } finally {
      await registry.close();
    }
  });

  it('treats an unreachable registry as a warning with the reason', async (t) => {
    if (unavailable) return t.skip();
    const dir = tempDir();
    copyNpmFixture(dir);
    process.env.npm_config_registry = 'http://127.0.0.1:9/';
    const r = await audit(dir, '      cwd: app\n      required: [minimist, mkdirp]\n');
    expect(r.status).toBe('warning');
    expect(r.result?.warnings).toEqual([
      expect.stringMatching(/^npm outdated could not check the registry: .*ECONNREFUSED 127\.0\.0\.1:9/),
      expect.stringMatching(/^npm audit could not get advisories: .*ECONNREFUSED|127\.0\.0\.1:9/),
    ]);
  });

  it('rolls an update back when the tests fail afterwards, restoring package files and node_modules', async (t) => {
    if (unavailable) return t.skip();
    const dir = tempDir();
    const app = copyNpmFixture(dir);
    const before = fingerprint(app, ['node_modules']);
    const r = await audit(
      dir,
      `      cwd: app\n      update: patch\n      test_command: ${JSON.stringify(PINNED_TEST)}\n`,
    );
    const update = r.result?.details?.update as {
      planned: { name: string; from: string; to: string }[];
      kept: boolean;
      reinstalled: boolean;
    };
    expect(update.planned.map((p) => p.name)).toEqual(['minimist', 'mkdirp', 'semver']);
    expect(update.planned.find((p) => p.name === 'minimist')).toMatchObject({ from: '1.2.5', to: '1.2.8' });
    expect(update.kept).toBe(false);
    expect(update.reinstalled).toBe(true);
    expect(r.result?.warnings).toContainEqual(
      expect.stringMatching(
        /^the patch update was rolled back: the tests failed after the update \(.*exit 1\); package\.json, the lockfile and node_modules are back as they were$/,
      ),
    );
    expect(fingerprint(app, ['node_modules'])).toEqual(before);
    expect(installed(app, 'minimist')).toBe('1.2.5');
    expect(installed(app, 'semver')).toBe('5.7.1');
    expect(r.outputTail).toMatch(/rolled back to rb-1: 2 restored/);
  });

  it('keeps an update whose tests pass, with a rollback point left for later', async (t) => {
    if (unavailable) return t.skip();
    const dir = tempDir();
    const app = copyNpmFixture(dir);
    const dry = await audit(dir, '      cwd: app\n      update: patch\n      test_command: "true"\n', {
      dryRun: true,
    });
    expect(dry.result?.plan).toContain(
      'update minimist 1.2.5 -> 1.2.8 (patch) with npm install minimist@^1.2.8',
    );
    expect(installed(app, 'minimist')).toBe('1.2.5');

    const r = await audit(
      dir,
      '      cwd: app\n      update: patch\n      test_command: "true"\n      outdated: true\n',
    );
    expect((r.result?.details?.update as { kept: boolean }).kept).toBe(true);
    expect(r.result?.summary).toMatch(/updated 3 \(patch\), tests passed/);
    expect(installed(app, 'minimist')).toBe('1.2.8');
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies.minimist).toBe('^1.2.8');
    expect(r.result?.issuesFixed).toBe(3);
  });
});

describe('audit-deps with pip', () => {
  it('reports outdated and missing packages of a directory (pip list --path) against the real index', async () => {
    const dir = tempDir();
    // An installed distribution as pip sees it: its metadata. six 1.15.0 is older than the index's.
    const site = join(dir, 'vendor');
    mkdirSync(join(site, 'six-1.15.0.dist-info'), { recursive: true });
    writeFileSync(
      join(site, 'six-1.15.0.dist-info', 'METADATA'),
      'Metadata-Version: 2.1\nName: six\nVersion: 1.15.0\n',
    );
    writeFileSync(join(site, 'six-1.15.0.dist-info', 'RECORD'), '');
    const r = await audit(
      dir,
      '      manager: pip\n      pip_path: vendor\n      required: [six, Not_There]\n',
    );
    expect(r.result?.details?.missing).toEqual(['pip:Not_There']);
    expect(r.status).toBe('failed');
    // One truthful line about advisories: pip has none to check, so "no advisories" would lie.
    expect(r.result?.summary).toMatch(/^pip: .*; advisories not checked \(pip has no audit\)/);
    expect(r.result?.summary).not.toMatch(/no advisories/);
    const packages = r.result?.details?.packages as { name: string; current: string; latest: string }[];
    if (packages.length === 0) {
      // No index answered at all: said so, not a crash.
      expect(r.result?.warnings?.[0]).toMatch(/^pip could not reach a package index/);
      return;
    }
    expect(packages).toEqual([expect.objectContaining({ manager: 'pip', name: 'six', current: '1.15.0' })]);
    expect(packages[0]!.latest).not.toBe('1.15.0');
  });
});
