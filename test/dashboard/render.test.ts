/**
 * The dashboard's pages as HTML, through the real routes (fastify inject on the control socket's
 * app, a real SQLite store): what a task's config holds is escaped and its secrets masked; no
 * page has inline script or style; the read models below them page and resume correctly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caretaker } from '../../src/caretaker.js';
import { LiveOutput, LIVE_OUTPUT_BYTES } from '../../src/engine/live-output.js';
import { createCaretaker, defineAction, ManualClock } from '../../src/index.js';
import { buildApi } from '../../src/server/api.js';
import { escapeHtml, html, raw } from '../../src/server/dashboard/html.js';
import { dayStart, scheduleText, timeText } from '../../src/server/dashboard/time-text.js';
import { tempDir } from '../support/tmp.js';

const T0 = Date.UTC(2026, 10, 24, 12);

const noop = defineAction({
  name: 'noop',
  description: 'does nothing',
  schema: z.looseObject({}),
  async run() {
    return { ok: true, summary: 'nothing <b>done</b>' };
  },
});

const open: Caretaker[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function setup(yaml: string, env: Record<string, string> = {}) {
  Object.assign(process.env, env);
  const clock = new ManualClock(T0);
  const caretaker = createCaretaker({
    configText: yaml,
    baseDir: tempDir('ct-dash-'),
    clock,
    actions: [noop],
  });
  open.push(caretaker);
  return { caretaker, clock, app: buildApi(caretaker, { listener: 'socket' }) };
}

const PAGES = [
  '/',
  '/tasks/hello',
  '/timeline',
  '/dependencies',
  '/incidents',
  '/backups',
  '/health',
  '/audit',
];

describe('dashboard rendering', () => {
  it('escapes what the configuration says (a <script> in a description) and masks secrets in a task’s options', async () => {
    const { app } = setup(
      `version: 1
tasks:
  hello:
    description: "<script>alert(1)</script> & friends"
    action: noop
    with:
      url: "https://bob:s3cr3t-pw@db.example.org/x"
      password: "hunter2-hunter2"
      api_token_env: MY_TOKEN
      note: "the token is tok-abcdef-123456"
`,
      { MY_TOKEN: 'tok-abcdef-123456' },
    );
    const r = await app.inject({ method: 'GET', url: '/tasks/hello' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.body).not.toContain('<script>alert(1)');
    expect(r.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends');
    for (const secret of ['s3cr3t-pw', 'hunter2-hunter2', 'tok-abcdef-123456'])
      expect(r.body).not.toContain(secret);
    expect(r.body).toContain('@db.example.org/x');
    expect(r.body).toMatch(/&quot;password&quot;: &quot;•+&quot;/);
    // The env var's name is not a secret; its value is.
    expect(r.body).toContain('&quot;api_token_env&quot;: &quot;MY_TOKEN&quot;');
  });

  it('no page has inline script, inline style or event-handler attributes, and each has one h1', async () => {
    const { app, caretaker } = setup('version: 1\ntasks:\n  hello: { action: noop }\n');
    const run = await caretaker.runNow('hello');
    for (const url of [...PAGES, `/runs/${run.id}`]) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-security-policy'], url).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(r.body, url).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(r.body, url).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
      expect(r.body.match(/<h1[\s>]/g)?.length, url).toBe(1);
    }
    // The run's result summary is text, not markup.
    const r = await app.inject({ method: 'GET', url: `/runs/${run.id}` });
    expect(r.body).toContain('nothing &lt;b&gt;done&lt;/b&gt;');
  });

  it('bad filter input is one clear line with status 400, and a missing task or run 404', async () => {
    const { app } = setup('version: 1\ntasks:\n  hello: { action: noop }\n');
    for (const [url, line, status = 400] of [
      ['/tasks/hello?status=great', 'status: expected one of queued, running'],
      [
        '/tasks/hello?from=2026-13-40',
        'from: expected a date such as 2026-11-24, got &quot;2026-13-40&quot;',
      ],
      ['/tasks/hello?before=x', 'a run id is a whole number such as 42, got &quot;x&quot;'],
      ['/tasks/nope', 'there is no task &quot;nope&quot;', 404],
      ['/runs/99999', 'run #99999 does not exist', 404],
    ] as [string, string, number?][]) {
      const r = await app.inject({ method: 'GET', url });
      // Something that is not there is 404; a malformed request 400.
      expect(r.statusCode, url).toBe(status);
      expect(r.body, url).toContain(line);
      expect(r.body, url).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it('the history pages backwards and filters by trigger and date range', async () => {
    const { caretaker, clock } = setup('version: 1\ntasks:\n  hello: { action: noop }\n');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await caretaker.runNow('hello', { dryRun: i === 2 })).id);
      clock.advance(86_400_000);
    }
    const first = await caretaker.historyPage({ task: 'hello', limit: 2 });
    expect(first.runs.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = await caretaker.historyPage({ task: 'hello', limit: 2, beforeId: first.nextBeforeId! });
    expect(second.runs.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect((await caretaker.historyPage({ task: 'hello', trigger: 'schedule', limit: 10 })).runs).toEqual([]);
    const days = await caretaker.historyPage({
      task: 'hello',
      since: T0 + 86_400_000,
      until: T0 + 3 * 86_400_000,
      limit: 10,
    });
    expect(days.runs.map((r) => r.id)).toEqual([ids[2], ids[1]]);
  });

  it('the HTML helpers escape values and keep our own markup', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const name = '<img src=x onerror=alert(1)>';
    expect(html`<td title="${name}">${name}${raw('<br>')}</td>`.text).toBe(
      '<td title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;<br></td>',
    );
  });

  it('times carry their zone; schedules read in words', () => {
    expect(timeText(T0, 'UTC')).toBe('2026-11-24 12:00:00 UTC');
    expect(timeText(T0, 'Asia/Tokyo')).toBe('2026-11-24 21:00:00 GMT+9');
    expect(scheduleText('0 2 * * *', 'UTC')).toBe('every day at 02:00 (UTC)');
    expect(scheduleText('*/15 * * * *', 'UTC')).toBe('every 15 minutes');
    expect(scheduleText('30 4 * * 1', 'Europe/Berlin')).toBe('every Monday at 04:30 (Europe/Berlin)');
    expect(scheduleText('every 6h', 'UTC')).toBe('every 6h');
    expect(dayStart('2026-11-24', 'Asia/Tokyo')).toBe(Date.UTC(2026, 10, 23, 15));
    expect(dayStart('2026-02-30', 'UTC')).toBeUndefined();
  });
});

describe('live output of a running run', () => {
  it('resumes from a byte offset, starting at a whole character, and keeps at most its cap', () => {
    const live = new LiveOutput();
    live.started(7);
    live.write(7, 'héllo\n');
    const heard: string[] = [];
    const f = live.follow(7, 2, (e) => heard.push(e.kind === 'output' ? e.chunk.text : 'end'))!;
    // Offset 2 is inside "é" (2 bytes at 1-2): the backlog starts at the next whole character.
    expect(f.backlog).toEqual({ from: 3, to: 7, text: 'llo\n' });
    live.write(7, 'world\n');
    live.finished(7);
    expect(heard).toEqual(['world\n', 'end']);
    expect(live.follow(7, 7, () => {})).toMatchObject({
      backlog: { from: 7, to: 13, text: 'world\n' },
      finished: true,
    });
    expect(live.follow(8, 0, () => {})).toBeNull();

    live.started(9);
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 400; i++) live.write(9, line);
    const tail = live.follow(9, 0, () => {})!;
    expect(tail.backlog!.to).toBe(400 * 1024);
    expect(tail.backlog!.to - tail.backlog!.from).toBeLessThanOrEqual(LIVE_OUTPUT_BYTES);
    tail.stop();
  });
});

describe('one-time login codes (caretaker dashboard)', () => {
  it('log in once, within 60 s, as who minted them', async () => {
    const { caretaker, clock } = setup('version: 1\ntasks:\n  hello: { action: noop }\n');
    const sessions = await caretaker.sessions();
    const who = { actor: 'unix:alice', role: 'admin' as const, tasks: null };
    const a = sessions.mintOnce(who);
    const login = sessions.redeemOnce(a.code, '127.0.0.1');
    expect(login).toMatchObject({ ok: true, principal: who });
    expect(sessions.redeemOnce(a.code, '127.0.0.1')).toMatchObject({ ok: false, status: 401 });
    if (login.ok) expect(await sessions.check(login.id)).toMatchObject({ ok: true, principal: who });
    const b = sessions.mintOnce(who);
    clock.advance(60_001);
    expect(sessions.redeemOnce(b.code, '127.0.0.1')).toMatchObject({ ok: false, status: 401 });
  });
});
