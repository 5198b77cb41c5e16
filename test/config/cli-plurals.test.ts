/** Counts and periods in CLI messages read as English: "1 day", never "1 days". */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('CLI messages: singular and plural', () => {
  it('cleanup, metrics and validate say "1 day", "1 task", "1 character"', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\nserver:\n  token_env: CT_TEST_TOKEN\ntasks:\n  a:\n    action: shell\n    with: { command: "true" }\n',
    );
    const cleanup = cli(['cleanup', '--history-days', '1', '--rollback-days', '1'], { cwd: dir });
    expect(cleanup.stderr).toBe('');
    expect(cleanup.stdout).toMatch(/^deleted 0 runs older than 1 day \(or beyond 1000 per task\)$/m);
    expect(cleanup.stdout).toMatch(
      /^deleted 0 rollback points older than 1 day; 0 stored files no longer needed/m,
    );
    expect(cli(['metrics', '--days', '1'], { cwd: dir }).stdout).toMatch(/\(1 day\)/);
    const v = cli(['validate'], { cwd: dir, env: { CT_TEST_TOKEN: 'x' } });
    expect(v.stdout).toMatch(/is valid: 1 task, 0 scheduled/);
    expect(v.stdout).toMatch(
      /environment variable CT_TEST_TOKEN \(server\.token_env\) is set, 1 character$/m,
    );
  });
});
