import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { RunRecord } from '../../src/store/types.js';
import { tempDir } from '../support/tmp.js';

async function run(dir: string, withYaml: string, opts: { dryRun?: boolean } = {}): Promise<RunRecord> {
  const ct = createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  check:\n    action: validate-config\n    with:\n${withYaml}`,
    baseDir: dir,
    clock: new ManualClock(Date.now()),
  });
  try {
    return await ct.runNow('check', opts);
  } finally {
    await ct.close();
  }
}

const problems = (r: RunRecord) => (r.result?.details?.problems ?? []) as string[];

const MATERIALS_SCHEMA = JSON.stringify({
  type: 'object',
  required: ['materials'],
  properties: {
    materials: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { density: { type: 'number', exclusiveMinimum: 0 }, unit: { enum: ['SI', 'imperial'] } },
        additionalProperties: { type: 'number' },
      },
    },
  },
});

describe('validate-config', () => {
  it('passes well-formed files of every format', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'a.yaml'), 'port: 80\n');
    writeFileSync(join(dir, 'conf', 'b.json'), '{"port": 80}\n');
    writeFileSync(join(dir, 'conf', 'c.toml'), 'port = 80\n');
    writeFileSync(join(dir, 'conf', '.env'), 'port=80\n');
    const r = await run(dir, '      files: ["conf/*", "conf/.env"]\n      required: [port]\n');
    expect(problems(r)).toEqual([]);
    expect(r.status).toBe('success');
    expect(r.result?.summary).toBe('4 of 4 files valid');
  });

  it('reports syntax errors of every format with file, line and column', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\na: 2\n');
    writeFileSync(join(dir, 'b.json'), '{\n  "a": 1,\n}\n');
    writeFileSync(join(dir, 'c.toml'), 'a = \n');
    writeFileSync(join(dir, 'd.env'), 'OK=1\nNOT OK\n');
    writeFileSync(join(dir, 'e.conf'), 'x');
    const r = await run(
      dir,
      '      files: [a.yaml, b.json, c.toml, d.env, e.conf, missing.yaml, "none/*.yaml"]\n',
    );
    expect(r.status).toBe('failed');
    expect(problems(r)).toEqual([
      'none/*.yaml: no file matches this pattern',
      'a.yaml:2:1: invalid YAML: Map keys must be unique',
      'b.json:3:1: invalid JSON: expected a key in double quotes',
      'c.toml:1:5: invalid TOML: invalid value',
      'd.env:2:5: expected = after NOT, as in NOT=value',
      'e.conf: cannot tell the format from the name; set format: yaml | json | toml | env',
      'missing.yaml: no such file',
    ]);
    expect(r.result?.summary).toMatch(/^7 problems: /);
    expect(r.outputTail).toContain('a.yaml:2:1: invalid YAML: Map keys must be unique');
  });

  it('positions JSON Schema violations and missing required keys in YAML, JSON and TOML', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'materials.schema.json'), MATERIALS_SCHEMA);
    writeFileSync(
      join(dir, 'm.yaml'),
      'materials:\n  copper:\n    density: 8.96\n    melting_point: 1085\n  tin:\n    density: -1\n    unit: metric\n    colour: grey\n',
    );
    writeFileSync(join(dir, 'm.json'), '{\n  "materials": {\n    "lead": { "density": "heavy" }\n  }\n}\n');
    writeFileSync(join(dir, 'm.toml'), '[materials.zinc]\ndensity = 7.14\nmelting_point = 419.5\n');
    const r = await run(
      dir,
      '      files: [m.yaml, m.json, m.toml]\n      schema: materials.schema.json\n      required: ["materials.*.melting_point"]\n',
    );
    expect(r.status).toBe('failed');
    expect(problems(r)).toEqual([
      'm.yaml:6:5: materials.tin.melting_point: is required (required: materials.*.melting_point)',
      'm.yaml:6:14: materials.tin.density: must be > 0',
      'm.yaml:7:11: materials.tin.unit: must be equal to one of the allowed values: "SI", "imperial"',
      'm.yaml:8:13: materials.tin.colour: must be number',
      'm.json:3:13: materials.lead.melting_point: is required (required: materials.*.melting_point)',
      'm.json:3:26: materials.lead.density: must be number',
    ]);
  });

  it('reports required environment variables by presence and length, never their values', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'x: 1\n');
    process.env.CT_TEST_SECRET = 'hunter2-very-secret';
    process.env.CT_TEST_EMPTY = '';
    delete process.env.CT_TEST_ABSENT;
    try {
      const r = await run(
        dir,
        '      files: a.yaml\n      required_env: [CT_TEST_SECRET, CT_TEST_EMPTY, CT_TEST_ABSENT]\n',
      );
      expect(r.status).toBe('failed');
      expect(r.result?.details?.env).toEqual([
        { name: 'CT_TEST_SECRET', present: true, length: 19 },
        { name: 'CT_TEST_EMPTY', present: true, length: 0 },
        { name: 'CT_TEST_ABSENT', present: false, length: 0 },
      ]);
      expect(problems(r)).toEqual(['environment variable CT_TEST_ABSENT is not set']);
      expect(r.result?.warnings).toEqual(['environment variable CT_TEST_EMPTY is set but empty']);
      expect(JSON.stringify(r)).not.toContain('hunter2');
    } finally {
      delete process.env.CT_TEST_SECRET;
      delete process.env.CT_TEST_EMPTY;
    }
  });

  it('records a baseline, then reports drift key by key with secrets masked', async () => {
    const dir = tempDir();
    const app = join(dir, 'app.yaml');
    writeFileSync(app, 'db:\n  host: db1\n  password: s3cret-one\nworkers: 4\nfeatures: [a, b]\n');
    writeFileSync(join(dir, '.env'), 'API_TOKEN=tok-1\nDATABASE_URL=postgres://u:pw1@db/x\nMODE=prod\n');
    const opts = '      files: [app.yaml, .env]\n      baseline: true\n';

    const first = await run(dir, opts);
    expect(first.status).toBe('success');
    expect(first.result?.summary).toBe('2 of 2 files valid; no drift; baseline recorded for 2 files');
    const stored = readFileSync(join(dir, 'state', 'tasks', 'check', 'baseline.json'), 'utf8');
    for (const secret of ['s3cret-one', 'tok-1', 'pw1']) expect(stored).not.toContain(secret);

    // Comments and formatting only: the checksum changes, no key does.
    writeFileSync(app, '# tuned\ndb: { host: db1, password: s3cret-one }\nworkers: 4\nfeatures: [a, b]\n');
    const formatting = await run(dir, opts);
    expect(formatting.status).toBe('success');
    expect((formatting.result?.details?.files as { baseline: string }[])[0]!.baseline).toBe(
      'formatting only',
    );

    writeFileSync(app, 'db:\n  host: db2\n  password: s3cret-two\nfeatures: [a, b, c]\ntimeout: 30\n');
    writeFileSync(join(dir, '.env'), 'API_TOKEN=tok-2\nDATABASE_URL=postgres://u:pw2@db/x\nMODE=prod\n');
    const drifted = await run(dir, opts);
    expect(drifted.status).toBe('warning');
    const [appReport, envReport] = drifted.result?.details?.files as { drift: unknown }[];
    expect(appReport!.drift).toEqual({
      added: [
        { path: 'features.2', value: '"c"' },
        { path: 'timeout', value: '30' },
      ],
      removed: [{ path: 'workers', value: '4' }],
      changed: [
        { path: 'db.host', from: '"db1"', to: '"db2"' },
        { path: 'db.password', from: '(secret)', to: '(secret, changed)' },
      ],
    });
    expect(envReport!.drift).toEqual({
      added: [],
      removed: [],
      changed: [
        { path: 'API_TOKEN', from: '(secret)', to: '(secret, changed)' },
        { path: 'DATABASE_URL', from: '(secret)', to: '(secret, changed)' },
      ],
    });
    expect(drifted.result?.warnings?.[0]).toBe(
      'app.yaml: drift from the baseline: 5 keys (+ features.2 = "c"; + timeout = 30; - workers (was 4); ~ db.host: "db1" -> "db2"; ~ db.password: (secret) -> (secret, changed))',
    );
    for (const secret of ['s3cret', 'tok-2', 'pw2']) expect(JSON.stringify(drifted)).not.toContain(secret);

    // Without update the baseline stands: the same drift is reported again.
    expect((await run(dir, opts)).status).toBe('warning');
    rmSync(app);
    const deleted = await run(dir, '      files: [app.yaml, .env]\n      baseline: { on_drift: fail }\n');
    expect(deleted.status).toBe('failed');
    expect(problems(deleted)).toContain('app.yaml: deleted since the baseline');
  });

  it('adopts the new content after reporting it with update: true, and a dry run records nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), '{"v": 1}');
    const opts = '      files: a.json\n      baseline: { update: true }\n';
    const dry = await run(dir, opts, { dryRun: true });
    expect(dry.result?.summary).toBe('1 of 1 file valid; no drift; baseline would be recorded for 1 file');
    expect(existsSync(join(dir, 'state', 'tasks', 'check', 'baseline.json'))).toBe(false);
    await run(dir, opts);
    writeFileSync(join(dir, 'a.json'), '{"v": 2}');
    expect((await run(dir, opts)).status).toBe('warning');
    expect((await run(dir, opts)).status).toBe('success');
  });
});
