/**
 * `import crontab` and `import logrotate` on mutated text: random strings and mutants of real
 * crontab and logrotate files. Each case returns (the tasks it prints pass validate) or fails
 * with an error of exit code 2 — never another error, never a hang.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FuzzWorker, fuzzParams, mutate, type FuzzTarget } from '../support/fuzz.js';
import { mutations, randomText } from './arbitraries.js';

const CRONTAB = `# /etc/crontab: system-wide crontab
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
MAILTO=ops@example.org
CRON_TZ=Europe/Berlin
RANDOM_DELAY=5
17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly
25 6\t* * *\troot\ttest -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )
*/5 * * * * www-data mail -s "report" ops@example.org%line one%line two with \\% sign
@daily root find /tmp -mtime +7 -delete
@reboot root /usr/local/bin/warm-cache
0 2 * * mon-fri root /usr/bin/backup.sh --full
`;

const LOGROTATE = `weekly
rotate 4
create
compress
include /etc/logrotate.d
/var/log/nginx/*.log {
\tdaily
\tmissingok
\trotate 14
\tcompress
\tdelaycompress
\tnotifempty
\tcreate 0640 www-data adm
\tsharedscripts
\tprerotate
\t\tif [ -d /etc/logrotate.d/httpd-prerotate ]; then \\
\t\t\trun-parts /etc/logrotate.d/httpd-prerotate; \\
\t\tfi \\
\tendscript
\tpostrotate
\t\tinvoke-rc.d nginx rotate >/dev/null 2>&1
\tendscript
}
/var/log/app.log /var/log/app-error.log {
    size 10M
    maxage 30
    dateext
    dateformat -%Y%m%d
    copytruncate
    su root adm
}
`;

const TIMEOUT_MS = 5000;
const worker = new FuzzWorker();
afterAll(() => worker.close());

function property(target: FuzzTarget) {
  return async (text: string) => {
    const r = await worker.run(target, text, TIMEOUT_MS);
    expect(
      r.kind === 'ok' || r.kind === 'expected',
      `${r.kind}: ${r.detail}\ninput: ${JSON.stringify(text.slice(0, 2000))}`,
    ).toBe(true);
  };
}

describe.each([
  ['crontab', CRONTAB],
  ['logrotate', LOGROTATE],
] as const)('fuzz: import %s', (target, base) => {
  it('returns or refuses random text with exit code 2', async () => {
    const { seed, numRuns } = fuzzParams(`import ${target}, random text`, 200);
    await fc.assert(fc.asyncProperty(randomText, property(target)), { seed, numRuns });
  }, 60_000);

  it('returns or refuses mutants of a real file with exit code 2', async () => {
    const { seed, numRuns } = fuzzParams(`import ${target}, mutants`, 200);
    const check = property(target);
    await fc.assert(
      fc.asyncProperty(mutations, (ops) => check(mutate(base, ops))),
      { seed, numRuns },
    );
  }, 60_000);
});
