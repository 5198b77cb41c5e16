/**
 * What the CLI's quickest answers load (the start-up goals of the architecture issue: `caretaker
 * --version` within 1.3× of `node -e 0`). Each module a cold process loads costs its read,
 * compilation and evaluation; the built CLI runs with every module it loads recorded.
 */
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { tracedCli } from '../support/traced-cli.js';
import { tempDir } from '../support/tmp.js';

describe('the CLI start-up path', () => {
  for (const flag of ['--version', '-V'])
    it(`answers ${flag} from the entry point and the version alone`, () => {
      const r = tracedCli([flag], tempDir('ct-startup-path-'));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
      expect(r.own).toEqual(['cli/main.js', 'version.js']);
      expect([...r.packages]).toEqual([]);
    });

  it('still reads --version after other words through the full parser', () => {
    const r = tracedCli(['status', '--version'], tempDir('ct-startup-path-'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
  });
});
