/**
 * An SFTP copy whose server dies: every request after that fails with one line naming the cut,
 * at once. ssh2 answers the requests in flight when the channel closes, but a request sent after
 * it closed is never answered; a backup whose copy asked one then waited forever (seen in CI on
 * Node 22: the "sshd killed mid-upload" test ran into its 120 s timeout). Real sshd on loopback.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SftpTarget } from '../../src/backup/sftp-target.js';
import { skipBecause } from '../support/skip-reason.js';
import { sshdMissing, startSshd, type LoopbackSshd } from '../support/sshd.js';
import { tempDir } from '../support/tmp.js';

const noSshd = (() => {
  const why = sshdMissing();
  return why ? skipBecause('SFTP cut tests', why, { requiredUnderCi: true }) : undefined;
})();

let servers: LoopbackSshd[] = [];
afterEach(async () => {
  for (const s of servers) await s.kill();
  servers = [];
});

/** Resolves with how the promise settled, or 'still waiting' after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<string> {
  return Promise.race([
    p.then(
      () => 'resolved',
      (err: Error) => `rejected: ${err.message}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('still waiting'), ms).unref()),
  ]);
}

describe.skipIf(noSshd !== undefined)('an SFTP copy whose server was killed', () => {
  it('fails every later request at once with the cut, instead of waiting for an answer that never comes', async () => {
    const dir = tempDir('ct-sftp-cut-');
    const s = await startSshd(join(dir, 'sshd'));
    servers.push(s);
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const t = new SftpTarget({ to: s.url(remote), key_file: s.userKey, known_hosts: s.knownHostsFile });
    try {
      await t.upload('a.txt', Readable.from([Buffer.from('first\n')]));
      expect((await t.list()).map((f) => f.key)).toContain('a.txt');
      await s.kill();
      // The client hears the close from its socket; whatever it is asked afterwards must fail.
      let outcome = '';
      for (let i = 0; i < 20 && !outcome.includes('closed') && !outcome.includes('cut'); i++)
        outcome = await within(t.list(), 5_000);
      expect(outcome).toMatch(/^rejected: the connection to .* was (closed|cut)/);
      expect(await within(t.upload('b.txt', Readable.from([Buffer.from('second\n')])), 5_000)).toMatch(
        /^rejected: the connection to .* was (closed|cut)/,
      );
    } finally {
      t.close();
    }
  }, 60_000);
});
