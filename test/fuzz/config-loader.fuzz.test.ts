/**
 * The config loader on mutated YAML: random strings, and truncations, byte flips and splices of
 * real configurations. Each case loads, or fails with a ConfigError (exit code 2) — never another
 * error, never a hang.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FuzzWorker, fuzzParams, mutate } from '../support/fuzz.js';
import { mutations, randomText } from './arbitraries.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DEMO = readFileSync(resolve(ROOT, 'examples', 'demo', 'caretaker.yaml'), 'utf8');
const SMALL = `version: 1
timezone: Europe/Berlin
defaults: { timeout: 10m, retries: { count: 2, backoff: 30s } }
groups: { disk: 1 }
tasks:
  clean-tmp:
    action: prune-files
    schedule: "@daily"
    group: disk
    with: { paths: [/tmp/app], older_than: 7d }
  redis:
    action: prune-redis
    with: { url: redis://localhost, match: ["cache:*"], idle_over: 7d }
  backup:
    action: shell
    depends_on: [clean-tmp]
    schedule: "0 3 * * *"
    window: { hours: "1-5", days: mon-fri }
    with: { command: [/usr/bin/backup, --full], env: { A: "1" } }
`;
const TIMEOUT_MS = 5000;
const worker = new FuzzWorker();
afterAll(() => worker.close());

async function loads(text: string): Promise<void> {
  const r = await worker.run('config', text, TIMEOUT_MS);
  expect(
    r.kind === 'ok' || r.kind === 'expected',
    `${r.kind}: ${r.detail}\ninput: ${JSON.stringify(text.slice(0, 2000))}`,
  ).toBe(true);
}

describe('fuzz: the config loader', () => {
  it('loads or refuses random text with a ConfigError', async () => {
    const { seed, numRuns } = fuzzParams('config loader, random text', 300);
    await fc.assert(fc.asyncProperty(randomText, loads), { seed, numRuns });
  }, 60_000);

  it('loads or refuses mutants of real configurations with a ConfigError', async () => {
    const { seed, numRuns } = fuzzParams('config loader, mutants', 500);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(DEMO, SMALL), mutations, (base, ops) => loads(mutate(base, ops))),
      { seed, numRuns },
    );
  }, 60_000);
});
