import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinActions, builtinRegistry } from '../../src/actions/builtin.js';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { openCaretaker } from '../../src/caretaker.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { declareAction, lazyAction, type ComposedDeclaration } from '../../src/actions/declaration.js';
import { defineAction, type ActionContext, type AnyAction } from '../../src/actions/types.js';
import { tempDir } from '../support/tmp.js';
import { tracedCli } from '../support/traced-cli.js';

/** One task per built-in action, each with options its schema accepts. */
const EVERY_ACTION = `version: 1
state_dir: state
tasks:
  t-shell: { action: shell, with: { command: "true" } }
  t-http: { action: http, with: { url: "http://127.0.0.1:9/" } }
  t-module: { action: module, with: { path: job.mjs } }
  t-rotate: { action: rotate-logs, with: { paths: ["logs/*.log"], rotate: 3 } }
  t-prune: { action: prune-files, rollback: true, with: { paths: ["cache/**/*.tmp"], older_than: 7d } }
  t-scan: { action: scan-logs, with: { paths: [logs/app.log] } }
  t-backup: { action: backup, with: { paths: [data], dest: backups } }
  t-verify: { action: verify-backups, with: { dest: backups } }
  t-health:
    action: health
    with: { disk: { path: / }, tcp: { port: 9 }, tls: { host: localhost }, command: { command: "true" } }
  t-export: { action: export, with: { source: history, output: exports } }
  t-runbook:
    action: runbook
    with:
      steps:
        - { action: shell, with: { command: "true" }, undo: { action: shell, with: { command: "true" } } }
  t-validate: { action: validate-config, with: { files: ["config/*.yaml"] } }
  t-audit: { action: audit-deps, with: { manager: npm } }
  t-maintain: { action: db-maintain, with: { path: data/app.db } }
  t-retention:
    action: db-retention
    with: { path: data/app.db, table: events, timestamp_column: at, older_than: 30d }
  t-redis: { action: prune-redis, with: { match: "cache:*", idle_over: 1d } }
  t-restart:
    action: rolling-restart
    with: { instances: [{ name: a, stop: "true", start: "true", health_command: "true" }] }
  t-quality: { action: code-quality, with: { tools: [eslint] } }
  t-tests: { action: test-health, with: { command: "true", junit: ["reports/*.xml"] } }
  t-docs: { action: docs-check, with: { paths: ["*.md"] } }
  t-licenses: { action: license-check, with: { allow: [MIT] } }
`;

/** The modules of an action's run, none of which a config load needs. */
const IMPLEMENTATIONS = [
  ...builtinActions.map((a) => (a.name === 'health' ? 'actions/health/health.js' : `actions/${a.name}.js`)),
  'actions/rotate-logs/execute-plan.js',
  'actions/prune-files/tree-walk.js',
  'backup/write-archive.js',
];
const HEAVY = [
  'tar',
  'pg',
  'ioredis',
  'markdown-it',
  'typescript',
  'fast-xml-parser',
  'ajv',
  'smol-toml',
  '@aws-sdk/client-s3',
  'age-encryption',
];
// (node:child_process is loaded by commander itself, for its executable subcommands.)
const HEAVY_BUILTINS = ['node:tls'];

describe('the lazy action registry', () => {
  it('validates a config naming every built-in action without loading any action code', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), EVERY_ACTION);
    const r = tracedCli(['validate'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('is valid: 21 tasks');
    expect(r.status).toBe(0);
    expect(r.own).toContain('actions/shell/declaration.js');
    expect(r.own.filter((f) => IMPLEMENTATIONS.includes(f))).toEqual([]);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
    expect(HEAVY_BUILTINS.filter((b) => r.builtins.has(b))).toEqual([]);
  });

  it('still reports a bad option of an action whose code is not loaded, with its position', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      EVERY_ACTION.replace('older_than: 30d', 'older_than: 30 days'),
    );
    const r = tracedCli(['validate'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/caretaker\.yaml:\d+:\d+: tasks\.t-retention\.with\.older_than/);
    expect(r.own.filter((f) => IMPLEMENTATIONS.includes(f))).toEqual([]);
  });

  it('loads an action’s code on its first run, and only that action’s', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), EVERY_ACTION.replace('"true" } }', '"echo ran" } }'));
    const r = tracedCli(['run-task', 't-shell'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.own).toContain('actions/shell.js');
    expect(r.own.filter((f) => IMPLEMENTATIONS.includes(f))).toEqual(['actions/shell.js']);
    expect(r.packages.has('tar')).toBe(false);
  });

  it('keeps the declaration’s schema, description and modifies for config loading', async () => {
    const registry = await builtinRegistry().load(['prune-files']);
    const prune = registry.get('prune-files')!;
    expect(prune.category).toBe('cache');
    expect(prune.description).toMatch(/retention/);
    const options = prune.schema.parse({ paths: ['cache/**/*.tmp'], older_than: '7d' });
    expect(prune.modifies?.(options, (p) => `/base/${p}`)).toEqual(['/base/cache']);
    expect(() => prune.schema.parse({ paths: ['cache'] })).toThrow(/older_than/);
  });
});

/** The declaration modules of every built-in action (what a config load may import). */
const DECLARATIONS = builtinActions.map((a) => `actions/${a.name}/declaration.js`);
const declarationsIn = (own: readonly string[]) => own.filter((f) => DECLARATIONS.includes(f));

describe('declarations loaded per action', () => {
  it('validates a config of shell tasks importing only the shell declaration', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  a: { action: shell, with: { command: "true" } }\n  b: { action: shell, with: { command: "true" } }\n',
    );
    const r = tracedCli(['validate'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('is valid: 2 tasks');
    expect(declarationsIn(r.own)).toEqual(['actions/shell/declaration.js']);
    // The schema pieces of the other actions: health's checks, license-check's SPDX lists.
    expect(r.own.filter((f) => f.startsWith('actions/health/'))).toEqual([]);
    expect(['spdx-expression-parse', 'spdx-license-ids'].filter((p) => r.packages.has(p))).toEqual([]);
  });

  it('imports the declaration of an action named only by a runbook step, and checks the step with it', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      [
        'version: 1',
        'tasks:',
        '  upgrade:',
        '    action: runbook',
        '    with:',
        '      steps:',
        '        - action: prune-files',
        '          with: { paths: ["cache/*.tmp"], older_than: 7 days }',
        '          undo: { action: shell, with: { command: "true" } }',
        '',
      ].join('\n'),
    );
    const r = tracedCli(['validate'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/caretaker\.yaml:8:\d+: tasks\.upgrade\.with\.steps\.0\.with\.older_than/);
    expect(declarationsIn(r.own)).toEqual([
      'actions/prune-files/declaration.js',
      'actions/runbook/declaration.js',
      'actions/shell/declaration.js',
    ]);
  });

  it('names every built-in action for an unknown one without importing any declaration', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\ntasks:\n  a: { action: shel }\n');
    const r = tracedCli(['validate'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `tasks.a.action: unknown action "shel" (did you mean "shell"?); available: ${builtinActions.map((a) => a.name).join(', ')}`,
    );
    expect(declarationsIn(r.own)).toEqual([]);
  });

  it('has, for every deferred built-in, the declaration of that name', async () => {
    const registry = await builtinRegistry().load();
    expect(registry.all().map((a) => a.name)).toEqual(builtinActions.map((a) => a.name));
    expect(
      loadedBuiltinRegistry()
        .all()
        .map((a) => a.name),
    ).toEqual(builtinActions.map((a) => a.name));
    for (const a of registry.all()) expect(typeof a.schema.safeParse).toBe('function');
  });

  it('refuses to hand out an action whose declaration was not loaded, and loads only what is named', async () => {
    const registry = builtinRegistry();
    expect(() => registry.get('shell')).toThrow(/not loaded/);
    expect(registry.get('no-such-action')).toBeUndefined();
    await registry.load(['shell', 'no-such-action']);
    expect(registry.get('shell')?.description).toMatch(/process group/);
    expect(() => registry.get('health')).toThrow(/not loaded/);
  });

  it('imports the declaration of an action a reloaded configuration names for the first time', async () => {
    const dir = tempDir();
    const shellOnly =
      'version: 1\nstate_dir: state\ntasks:\n  a: { action: shell, with: { command: "true" } }\n';
    const caretaker = await openCaretaker({ configText: shellOnly, baseDir: dir });
    const withPrune = `${shellOnly}  b: { action: prune-files, with: { paths: ["cache/*.tmp"], older_than: 7d } }\n`;
    const next = await caretaker.reload({ configText: withPrune });
    expect(next.tasks.map((t) => [t.id, t.action, t.category])).toEqual([
      ['a', 'shell', undefined],
      ['b', 'prune-files', 'cache'],
    ]);
    const broken = withPrune.replace('older_than: 7d', 'older_than: 7 days');
    const err = await caretaker.reload({ configText: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['tasks.b.with.older_than']);
    await caretaker.close();
  });
});

describe('lazyAction', () => {
  const schema = z.strictObject({ n: z.number() });
  const declaration = declareAction({ name: 'count', description: 'counts', schema });
  const ctx = {} as ActionContext;

  it('imports the implementation once, on the first run, and runs it', async () => {
    let loads = 0;
    const impl = defineAction({
      ...declaration,
      run: async (_ctx, o) => ({ ok: true, summary: `n=${o.n}` }),
    });
    const action = lazyAction(declaration, () => {
      loads++;
      return Promise.resolve(impl);
    });
    expect(loads).toBe(0);
    expect(action.schema.parse({ n: 1 })).toEqual({ n: 1 });
    const [a, b] = await Promise.all([action.run(ctx, { n: 1 }), action.run(ctx, { n: 2 })]);
    expect([a.summary, b.summary]).toEqual(['n=1', 'n=2']);
    expect(loads).toBe(1);
  });

  it('tries the import again on the next run after it failed', async () => {
    let loads = 0;
    const action = lazyAction(declaration, () => {
      loads++;
      if (loads === 1) return Promise.reject(new Error('Cannot find package "optional-driver"'));
      return Promise.resolve(
        defineAction({ ...declaration, run: async () => ({ ok: true, summary: 'ok' }) }),
      );
    });
    await expect(action.run(ctx, { n: 1 })).rejects.toThrow(/optional-driver/);
    expect((await action.run(ctx, { n: 1 })).summary).toBe('ok');
    expect(loads).toBe(2);
  });

  it('binds a composed declaration to the registry, and its implementation on the first run', async () => {
    const seen: string[] = [];
    const composed: ComposedDeclaration = {
      ...declaration,
      name: 'steps',
      bind: (actions) => ({ ...declaration, name: 'steps', description: actions.names().join(',') }),
    };
    const impl: AnyAction = defineAction({
      ...declaration,
      name: 'steps',
      run: () => Promise.reject(new Error('unbound')),
      bind: (actions) =>
        defineAction({
          ...declaration,
          name: 'steps',
          run: async () => {
            seen.push(actions.names().join(','));
            return { ok: true, summary: 'bound run' };
          },
        }),
    });
    let loads = 0;
    const registry = builtinRegistry([
      lazyAction(composed, () => {
        loads++;
        return Promise.resolve(impl);
      }),
    ]);
    const bound = registry.get('steps')!;
    expect(bound.description).toContain('shell');
    expect(loads).toBe(0);
    expect((await bound.run(ctx, { n: 1 })).summary).toBe('bound run');
    expect(seen[0]).toContain('steps');
    expect(loads).toBe(1);
  });
});
