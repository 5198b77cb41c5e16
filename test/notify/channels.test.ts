/**
 * Every channel against a real receiver on loopback: a webhook server that checks the HMAC
 * signature, a Slack-shaped receiver, a real SMTP server (smtp-server) with STARTTLS and a
 * login, a command reading the alert from stdin. Retries run on a manual clock.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { buildEvent } from '../../src/notify/alert-event.js';
import type { Channel } from '../../src/notify/channels/channel.js';
import { makeChannel } from '../../src/notify/channels/make-channel.js';
import { deliver } from '../../src/notify/delivery.js';
import { secretValues } from '../../src/notify/redact.js';
import type { AlertEvent, ChannelConfig } from '../../src/notify/types.js';
import type { RunRecord } from '../../src/store/types.js';
import { httpServer, selfSigned } from '../support/loopback-servers.js';
import { drive as driveClock } from '../support/clock-driver.js';
import { tempDir } from '../support/tmp.js';

const base = {
  on: ['failure' as const],
  subjects: null,
  quietHours: true,
  timeoutMs: 5_000,
  retries: 3,
  backoffMs: 1_000,
};
const SECRET = 'hmac-secret-value-123';
const TOKEN = 'tok-very-secret-42';

const run: RunRecord = {
  id: 7,
  task: 'backup',
  host: 'web-1',
  trigger: 'schedule',
  scheduledFor: null,
  notBefore: null,
  queuedAt: Date.UTC(2026, 10, 24, 2),
  startedAt: Date.UTC(2026, 10, 24, 2),
  finishedAt: Date.UTC(2026, 10, 24, 2, 1),
  status: 'failed',
  attempt: 1,
  exitCode: 3,
  durationMs: 60_000,
  outputTail: `connecting with password ${TOKEN}\nerror: disk full\n`,
  result: { ok: false, summary: 'exit 3 after 1m' },
  reason: 'exit 3 after 1m',
  dryRun: false,
  pid: 1,
  childPgid: null,
  childStarted: null,
};

function event(): AlertEvent {
  process.env.CT_TEST_TOKEN = TOKEN;
  return buildEvent({
    event: 'failure',
    subject: { kind: 'task', id: 'backup', owner: 'platform-team' },
    host: 'web-1',
    now: Date.UTC(2026, 10, 24, 2, 1),
    message: 'exit 3 after 1m',
    run,
    secrets: secretValues(['CT_TEST_TOKEN']),
  });
}

/** Runs a delivery to the end on a manual clock, stepping through its retry delays. */
async function drive(channel: Channel, ev: AlertEvent, clock = new ManualClock()) {
  const p = deliver(channel, ev, { clock, signal: new AbortController().signal, secrets: [SECRET] });
  const { value, waits } = await driveClock(clock, p);
  return { outcome: value, delays: waits };
}

afterEach(() => {
  delete process.env.CT_HOOK_SECRET;
  delete process.env.CT_SMTP_USER;
  delete process.env.CT_SMTP_PASS;
});

describe('webhook channel', () => {
  it('POSTs the alert as JSON with a verifiable HMAC-SHA256 signature and no secrets', async () => {
    process.env.CT_HOOK_SECRET = SECRET;
    const hook = await httpServer({ '/hook': (_q, res) => res.writeHead(204).end() });
    const channel = makeChannel({
      ...base,
      type: 'webhook',
      name: 'ops',
      url: `${hook.url}/hook`,
      urlEnv: null,
      secretEnv: 'CT_HOOK_SECRET',
      headers: { 'x-team': 'platform' },
      headersEnv: {},
    } satisfies ChannelConfig);
    const { outcome } = await drive(channel, event());
    expect(outcome).toEqual({ ok: true, attempts: 1, error: null });
    const req = hook.received[0]!;
    const expected = `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`;
    expect(req.headers['x-caretaker-signature']).toBe(expected);
    expect(req.headers['x-caretaker-event']).toBe('failure');
    expect(req.headers['x-team']).toBe('platform');
    const body = JSON.parse(req.body) as AlertEvent;
    expect(body.event).toBe('failure');
    expect(body.severity).toBe('critical');
    expect(body.title).toBe('backup failed on web-1');
    expect(body.subject.owner).toBe('platform-team');
    expect(body.run?.outputTail).toContain('error: disk full');
    // The token printed by the task and the signing secret never travel in the payload.
    expect(req.body).not.toContain(TOKEN);
    expect(req.body).toContain('password ***');
    expect(req.body).not.toContain(SECRET);
  });

  it('retries a 5xx with exponential backoff, and records why it failed in the end', async () => {
    let calls = 0;
    const hook = await httpServer({
      '/hook': (_q, res) => res.writeHead(++calls < 3 ? 503 : 200).end('busy'),
    });
    const channel = makeChannel({
      ...base,
      type: 'webhook',
      name: 'ops',
      url: `${hook.url}/hook`,
      urlEnv: null,
      secretEnv: null,
      headers: {},
      headersEnv: {},
    });
    const { outcome, delays } = await drive(channel, event());
    expect(outcome.ok).toBe(true);
    expect(outcome.attempts).toBe(3);
    expect(delays).toEqual([1_000, 2_000]);

    const down = await httpServer({ '/hook': (_q, res) => res.writeHead(500).end('internal trouble') });
    const failing = makeChannel({
      ...base,
      type: 'webhook',
      name: 'ops',
      url: `${down.url}/hook`,
      urlEnv: null,
      secretEnv: null,
      headers: {},
      headersEnv: {},
    });
    const r = await drive(failing, event());
    expect(r.outcome).toEqual({ ok: false, attempts: 4, error: 'answered 500: internal trouble' });
    expect(r.delays).toEqual([1_000, 2_000, 4_000]);
  });

  it('does not retry what retrying cannot fix: a 404, a missing secret', async () => {
    const hook = await httpServer();
    const channel = makeChannel({
      ...base,
      type: 'webhook',
      name: 'ops',
      url: `${hook.url}/nope`,
      urlEnv: null,
      secretEnv: null,
      headers: {},
      headersEnv: {},
    });
    expect((await drive(channel, event())).outcome).toMatchObject({ ok: false, attempts: 1 });
    const noSecret = makeChannel({
      ...base,
      type: 'webhook',
      name: 'ops',
      url: `${hook.url}/x`,
      urlEnv: null,
      secretEnv: 'CT_UNSET_SECRET_ENV',
      headers: {},
      headersEnv: {},
    });
    const r = await drive(noSecret, event());
    expect(r.outcome).toEqual({
      ok: false,
      attempts: 1,
      error: 'environment variable CT_UNSET_SECRET_ENV (secret of channel ops) is not set',
    });
  });
});

describe('slack channel', () => {
  it('sends the incoming-webhook payload: text plus blocks', async () => {
    const slack = await httpServer({ '/services/T0/B0/x': (_q, res) => res.writeHead(200).end('ok') });
    const channel = makeChannel({
      ...base,
      type: 'slack',
      name: 'slack',
      url: `${slack.url}/services/T0/B0/x`,
      urlEnv: null,
    });
    expect((await drive(channel, event())).outcome.ok).toBe(true);
    const payload = JSON.parse(slack.received[0]!.body) as { text: string; blocks: { type: string }[] };
    expect(payload.text).toBe(':red_circle: FAILED: backup failed on web-1');
    expect(payload.blocks.map((b) => b.type)).toEqual(['section', 'context', 'section']);
    expect(slack.received[0]!.body).not.toContain(TOKEN);
  });
});

describe('email channel', () => {
  it('delivers through a real SMTP server with STARTTLS and a login from the environment', async () => {
    const dir = tempDir();
    const { key, cert } = selfSigned(dir, 'smtp', 30);
    const mails: { from: string; to: string[]; raw: string; secure: boolean }[] = [];
    const server = new SMTPServer({
      key: readFileSync(key),
      cert: readFileSync(cert),
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'alerts' && auth.password === 'pw-from-env') cb(null, { user: 'alerts' });
        else cb(new Error('invalid login'));
      },
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString()));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            secure: session.secure,
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.server.address() as { port: number }).port;
    try {
      process.env.CT_SMTP_USER = 'alerts';
      process.env.CT_SMTP_PASS = 'pw-from-env';
      const channel = makeChannel({
        ...base,
        type: 'email',
        name: 'mail',
        smtp: `smtp://127.0.0.1:${port}`,
        smtpEnv: null,
        from: 'caretaker@web-1.example',
        to: ['ops@example.org', 'oncall@example.org'],
        usernameEnv: 'CT_SMTP_USER',
        passwordEnv: 'CT_SMTP_PASS',
        starttls: 'require',
        caFile: cert,
        subjectPrefix: '[caretaker]',
      });
      const { outcome } = await drive(channel, event());
      expect(outcome).toEqual({ ok: true, attempts: 1, error: null });
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.secure).toBe(true); // upgraded with STARTTLS before the login
      expect(mail.from).toBe('caretaker@web-1.example');
      expect(mail.to).toEqual(['ops@example.org', 'oncall@example.org']);
      expect(mail.raw).toMatch(/^Subject: \[caretaker\] FAILED: backup failed on web-1$/m);
      expect(mail.raw).toContain('error: disk full');
      expect(mail.raw).not.toContain('pw-from-env');
      expect(mail.raw).not.toContain(TOKEN);

      process.env.CT_SMTP_PASS = 'wrong';
      const refused = await drive(channel, event());
      expect(refused.outcome.ok).toBe(false);
      expect(refused.outcome.attempts).toBe(1); // a refused login is not retried
      expect(refused.outcome.error).toMatch(/^SMTP: /);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('command channel', () => {
  it('runs the command with the alert as JSON on stdin', async () => {
    const dir = tempDir();
    const out = join(dir, 'alert.json');
    const channel = makeChannel({
      ...base,
      type: 'command',
      name: 'script',
      command: `cat > ${out}; echo "$CARETAKER_EVENT $CARETAKER_SUBJECT" > ${out}.env`,
      cwd: dir,
      env: {},
    });
    expect((await drive(channel, event())).outcome.ok).toBe(true);
    const ev = JSON.parse(readFileSync(out, 'utf8')) as AlertEvent;
    expect(ev.title).toBe('backup failed on web-1');
    expect(readFileSync(`${out}.env`, 'utf8').trim()).toBe('failure task:backup');
  });

  it('counts a non-zero exit as a failed delivery, with its last line', async () => {
    const channel = makeChannel({
      ...base,
      retries: 0,
      type: 'command',
      name: 'script',
      command: 'echo "relay refused" >&2; exit 4',
      cwd: tempDir(),
      env: {},
    });
    expect((await drive(channel, event())).outcome).toEqual({
      ok: false,
      attempts: 1,
      error: 'exited with 4: relay refused',
    });
  });
});
