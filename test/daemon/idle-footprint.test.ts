import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { TRACE, unbundled } from '../support/traced-cli.js';

const CONFIG = `version: 1
tasks:
  nightly-backup: { action: backup, schedule: "0 3 * * *", with: { paths: [data], dest: backups } }
  prune-cache: { action: prune-files, schedule: "0 4 * * *", with: { paths: [cache], older_than: 7d } }
  docs: { action: docs-check, schedule: "0 5 * * 1", with: { paths: ["*.md"] } }
  checks: { action: health, schedule: "0 * * * *", with: { tls: { host: localhost } } }
`;

describe('an idle daemon', () => {
  it('serves its API without loading action code or a JSON-schema compiler', async () => {
    const dir = tempDir('ct-idle-');
    writeFileSync(join(dir, 'caretaker.yaml'), CONFIG);
    const trace = join(dir, 'modules.txt');
    writeFileSync(trace, '');
    const child = spawn(process.execPath, ['--import', TRACE, BIN, 'start'], {
      cwd: dir,
      env: { ...process.env, CARETAKER_CONFIG: '', CARETAKER_TRACE_FILE: trace },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
    const status = cli(['status'], { cwd: dir });
    expect(status.stdout).toMatch(/^daemon: running \(pid \d+/);
    expect(status.code).toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const loaded = unbundled(readFileSync(trace, 'utf8').split('\n').filter(Boolean));
    const own = loaded.filter((f) =>
      /\/dist\/actions\/[^/]+\.js$|\/dist\/actions\/health\/health\.js$/.test(f),
    );
    expect(
      own.filter(
        (f) => !/\/(builtin|declaration|registry|runbook-steps|http-status|read-records)\.js$/.test(f),
      ),
    ).toEqual([]);
    const packages = new Set(
      loaded.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.slice(1, 2) ?? []),
    );
    // (fastify's own error serializer needs fast-json-stringify's small runtime, not its compiler.)
    const unwanted = [
      'ajv',
      '@fastify/ajv-compiler',
      '@fastify/fast-json-stringify-compiler',
      'tar',
      'markdown-it',
      'pg',
    ];
    expect(unwanted.filter((p) => packages.has(p))).toEqual([]);
  });
});
