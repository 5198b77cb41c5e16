/**
 * known_hosts matching, checked against OpenSSH's own reading of the same file: ssh-keygen -H
 * hashes the lines, ssh-keygen -F finds a host in it; caretaker must agree on every host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprint,
  hostKeyAlgorithms,
  parseKnownHosts,
} from '../../src/backup/known-hosts.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir } from '../support/tmp.js';

const noKeygen =
  spawnSync('ssh-keygen', ['-?']).error === undefined
    ? undefined
    : skipBecause('known_hosts tests', 'ssh-keygen is not installed (apt-get install openssh-client)');

function key(dir: string, name: string, type = 'ed25519'): { type: string; blob: Buffer; line: string } {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)], { stdio: 'ignore' });
  const [t, b64] = readFileSync(join(dir, `${name}.pub`), 'utf8')
    .trim()
    .split(/\s+/);
  return { type: t!, blob: Buffer.from(b64!, 'base64'), line: `${t} ${b64}` };
}

describe.skipIf(noKeygen)('known_hosts as OpenSSH reads it', () => {
  it('hashed and plain lines, [host]:port, patterns and negation match exactly the hosts ssh-keygen -F finds', () => {
    const dir = tempDir();
    const a = key(dir, 'a');
    const b = key(dir, 'b');
    const file = join(dir, 'known_hosts');
    writeFileSync(
      file,
      [
        '# a comment, then an empty line',
        '',
        `vault.internal,10.0.0.5 ${a.line}`,
        `[vault.internal]:2222 ${b.line}`,
        `*.example.org,!secret.example.org ${a.line} a pattern`,
        `[127.0.0.1]:40022 ${b.line}`,
        '',
      ].join('\n'),
    );
    execFileSync('cp', [file, join(dir, 'hashed')]);
    execFileSync('ssh-keygen', ['-H', '-f', join(dir, 'hashed')], { stdio: 'ignore' });
    const hashedText = readFileSync(join(dir, 'hashed'), 'utf8');
    expect(hashedText).toMatch(/^\|1\|/m);
    const cases: [string, number][] = [
      ['vault.internal', 22],
      ['vault.internal', 2222],
      ['10.0.0.5', 22],
      ['10.0.0.5', 2222],
      ['www.example.org', 22],
      ['secret.example.org', 22],
      ['127.0.0.1', 40022],
      ['127.0.0.1', 22],
      ['elsewhere', 22],
    ];
    for (const text of [readFileSync(file, 'utf8'), hashedText]) {
      const lines = parseKnownHosts(text);
      for (const [host, port] of cases) {
        const name = port === 22 ? host : `[${host}]:${port}`;
        const f = spawnSync(
          'ssh-keygen',
          ['-F', name, '-f', join(dir, text === hashedText ? 'hashed' : 'known_hosts')],
          {
            encoding: 'utf8',
          },
        );
        const sshKnows = f.status === 0 && f.stdout.includes('ssh-');
        const va = checkHostKey(lines, host, port, a.blob).status;
        const vb = checkHostKey(lines, host, port, b.blob).status;
        // Every host OpenSSH finds has one of the keys (ok); every other host is unknown.
        expect([va, vb].includes('ok'), `${name}`).toBe(sshKnows);
        if (!sshKnows) expect([va, vb], name).toEqual(['unknown', 'unknown']);
      }
      // The wrong key of the right type for a known host: changed, naming its line (ssh-keygen -H
      // splits multi-host lines, so the hashed file's numbering differs).
      const changed = checkHostKey(lines, 'vault.internal', 2222, a.blob);
      expect(changed).toEqual({ status: 'changed', lines: [text === hashedText ? 5 : 4] });
    }
  });

  it('a key of another type is unknown, not changed; @revoked refuses; algorithms follow the known types; fingerprints as ssh-keygen -l', () => {
    const dir = tempDir();
    const ed = key(dir, 'ed');
    const rsa = key(dir, 'rsa', 'rsa');
    const lines = parseKnownHosts(`h ${ed.line}\n@revoked h ${rsa.line}\n@cert-authority * ${rsa.line}\n`);
    expect(checkHostKey(lines, 'h', 22, ed.blob).status).toBe('ok');
    expect(checkHostKey(lines, 'h', 22, rsa.blob)).toEqual({ status: 'revoked', line: 2 });
    expect(checkHostKey(parseKnownHosts(`h ${ed.line}\n`), 'h', 22, rsa.blob).status).toBe('unknown');
    expect(hostKeyAlgorithms(lines, 'h', 22)).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms(parseKnownHosts(`h ${rsa.line}\n`), 'h', 22)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
    expect(hostKeyAlgorithms(lines, 'other', 22)).toBeUndefined();
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'ed.pub')], {
      encoding: 'utf8',
    }).split(/\s+/)[1];
    expect(fingerprint(ed.blob)).toBe(printed);
  });
});
