import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { locateState, scanStateKeys } from '../../src/config/locate-state.js';
import { tempDir } from '../support/tmp.js';

/** What the YAML parser makes of the two keys: the reference the scan must agree with. */
function parsed(source: string): { state_dir?: unknown; store?: unknown } | 'error' {
  try {
    const doc: unknown = parse(source, { maxAliasCount: 100 });
    const raw = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
    const pick = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    return { state_dir: pick(raw.state_dir), store: pick(raw.store) };
  } catch {
    return 'error';
  }
}

/**
 * The scan either declines (the parser decides) or agrees with the parser exactly — where the
 * parser has a value to give: on a file it refuses (a duplicate `version:`, say) the scan may
 * still read an unambiguous line, which is better than the defaults.
 */
function expectAgreement(source: string): void {
  const scan = scanStateKeys(source);
  if (scan === undefined) return;
  const ref = parsed(source);
  if (ref === 'error') return;
  const pick = (v: string | undefined) => (v === '' ? undefined : v);
  expect({ source, got: { state_dir: pick(scan.state_dir), store: pick(scan.store) } }).toEqual({
    source,
    got: ref,
  });
}

const DEMO = readFileSync(
  resolve(import.meta.dirname, '..', '..', 'examples', 'demo', 'caretaker.yaml'),
  'utf8',
);

describe('locating the state dir without the YAML parser', () => {
  it('reads the plain lines of an ordinary config, the demo included', () => {
    expect(scanStateKeys('version: 1\nstate_dir: var/state # here\ntasks: {}\n')).toEqual({
      state_dir: 'var/state',
    });
    expect(scanStateKeys('store: \'postgres://h/db\'\nstate_dir: "s t"\n')).toEqual({
      store: 'postgres://h/db',
      state_dir: 's t',
    });
    expect(scanStateKeys('state_dir: a#b\n')).toEqual({ state_dir: 'a#b' });
    expect(scanStateKeys(DEMO)).not.toBeUndefined();
    expectAgreement(DEMO);
  });

  it('declines whatever a line cannot say for sure', () => {
    for (const source of [
      'state_dir: a\nstate_dir: b\n', // a duplicate: the parser's error
      'state_dir: a\n  b\n', // a plain scalar that goes on
      'state_dir:\n  b\n',
      'state_dir:\n# a comment between\n  more\n', // found by the property below
      'state_dir: |\n  x\n',
      'state_dir: &a x\n',
      'state_dir: *a\n',
      '{state_dir: x}\n',
      '"state_dir": x\n',
      '? state_dir\n: x\n',
      '<<: {state_dir: x}\n',
      '---\nstate_dir: x\n---\nstate_dir: y\n',
      '  state_dir: x\n  tasks: {}\n', // an indented document
      'state_dir: a: b\n',
      'state_dir : [x]\n',
      'state_dir: x\r\n',
    ])
      expect({ source, scan: scanStateKeys(source) }).toEqual({ source, scan: undefined });
  });

  it('never disagrees with the parser (fast-check over config-like texts)', () => {
    const line = fc.constantFrom(
      'version: 1',
      'state_dir: s',
      'state_dir: "q d"',
      "state_dir: 'x'",
      'state_dir:',
      'state_dir: a # c',
      'state_dir: a#b',
      'state_dir: a: b',
      'state_dir:   ',
      'store: sqlite',
      'store: postgres://u:p@h/db',
      '  state_dir: nested',
      '  store: nested',
      'tasks:',
      '  t: { action: shell, with: { command: "true" } }',
      '  more',
      '# state_dir: commented',
      '',
      '---',
      '{state_dir: f}',
      '<<: *x',
      'x: &x {state_dir: m}',
      '- item',
      'state_dir: [a]',
      'state_dir: {a: 1}',
      "state_dir: 'it''s'",
    );
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`locate-state property seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => expectAgreement(`${lines.join('\n')}\n`)),
      { seed, numRuns: 3_000 },
    );
  });

  it('gives locateState the same answer with or without the parser', () => {
    const dir = tempDir();
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(file, 'version: 1\nstate_dir: var/st\ntasks: {}\n');
    expect(locateState(file).stateDir).toBe(join(dir, 'var/st'));
    writeFileSync(file, 'version: 1\nstate_dir: |-\n  var/block\ntasks: {}\n'); // parser path
    expect(locateState(file).stateDir).toBe(join(dir, 'var/block'));
    writeFileSync(file, 'version: 1\nstate_dir: [unclosed\n');
    expect(locateState(file).problem).toBe('is not valid YAML');
  });
});
