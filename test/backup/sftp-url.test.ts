import { describe, expect, it } from 'vitest';
import { splitCopyUrl } from '../../src/backup/offsite-verify.js';
import { parseSftpUrl } from '../../src/backup/sftp-url.js';

describe('sftp:// copy URLs', () => {
  it('reads user, host, port and an absolute directory; the port defaults to 22 and the user to none', () => {
    expect(parseSftpUrl('sftp://backup@vault.internal:2222/srv/backups/web-3/')).toEqual({
      user: 'backup',
      host: 'vault.internal',
      port: 2222,
      dir: '/srv/backups/web-3',
    });
    expect(parseSftpUrl('sftp://vault/srv')).toEqual({
      user: undefined,
      host: 'vault',
      port: 22,
      dir: '/srv',
    });
    expect(parseSftpUrl('sftp://u@[::1]:22/x')).toMatchObject({ host: '::1', port: 22, dir: '/x' });
  });

  it('refuses what is not a directory on a host: no path, a bad port, dot segments, another scheme', () => {
    for (const bad of [
      'sftp://vault',
      'sftp://vault:0/x',
      'sftp://vault:70000/x',
      'sftp://vault/srv/../etc',
      'sftp://vault/./x',
      'ssh://vault/x',
      'sftp://us er@vault/x',
    ])
      expect(parseSftpUrl(bad), bad).toBeUndefined();
  });

  it('splits a copy URL into the copy and the archive name, for s3:// and sftp:// alike', () => {
    expect(splitCopyUrl('sftp://b@h:2222/srv/x/bk-20261206T010000Z.tar.gz.age')).toEqual({
      copy: 'sftp://b@h:2222/srv/x',
      name: 'bk-20261206T010000Z.tar.gz',
    });
    expect(splitCopyUrl('s3://bkt/web-3/bk-20261206T010000Z.tar.gz').copy).toBe('s3://bkt/web-3');
    expect(() => splitCopyUrl('sftp://h/bk.tar.gz')).toThrow(
      'expected s3://bucket/prefix/ARCHIVE-NAME or sftp://user@host:port/absolute/dir/ARCHIVE-NAME',
    );
  });
});
