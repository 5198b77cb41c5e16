/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard end to end: a real daemon on a loopback port (the built CLI), real Chromium
 * (Debian's, driven by playwright-core), real tokens made with the CLI. Log in through the form,
 * run a task and watch it finish live, find it in the filtered history, pause and resume; a
 * viewer sees no Run button and its POST is refused; a form without its CSRF token is refused;
 * no page logs an error or a Content-Security-Policy violation; every page has one h1, labelled
 * controls, and Tab reaches its buttons.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { BIN, cli } from '../support/cli.js';
import { waitUntil } from '../support/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`skipping the dashboard's browser tests: ${CHROMIUM} is not installed (.ci/run installs it)`);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

let dir: string;
let base: string;
let daemon: ChildProcess;
let exited: Promise<number | null>;
let browser: Browser;
const tokens: Record<string, string> = {};
/** The run page with a Restore form (set by the restore test), for the accessibility pass. */
let restorePath: string | undefined;
/** Console errors, page errors and CSP reports of every page opened. */
const problems: string[] = [];

function watch(page: Page): Page {
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text()))
      problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  return page;
}

async function loggedIn(
  role: 'operator' | 'viewer' | 'admin',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = watch(await context.newPage());
  await page.goto(`${base}/`);
  // Not logged in: sent to the login form.
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('Access token').fill(tokens[role]!);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/`);
  return { context, page };
}

const csrfOf = (page: Page) => page.locator('input[name=csrf]').first().inputValue();

describe.skipIf(!haveChromium)('the dashboard in Chromium against a real daemon', () => {
  beforeAll(async () => {
    // One daemon for the file (tempDir's cleanup is per test): removed in afterAll.
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'ct-dash-e2e-')));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1
timezone: Europe/Berlin
server: { listen: 127.0.0.1:${port} }
tasks:
  slow-echo:
    description: prints three lines, half a second apart
    action: shell
    schedule: "0 3 * * *"
    with: { command: "for i in 1 2 3; do echo line $i; sleep 0.4; done" }
  after-echo:
    action: shell
    schedule: "30 3 * * *"
    depends_on: [slow-echo]
    with: { command: "echo after" }
  push-config:
    action: shell
    rollback: { paths: [conf] }
    with: { command: "echo 'port: 9090' > conf/app.yaml" }
`,
    );
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'app.yaml'), 'port: 8080\n');
    for (const role of ['operator', 'viewer', 'admin'] as const) {
      const made = cli(['token', 'create', `web-${role}`, '--role', role], { cwd: dir });
      expect(made.code, made.stderr).toBe(0);
      tokens[role] = made.stdout.trim();
    }
    daemon = spawn(process.execPath, [BIN, 'start'], {
      cwd: dir,
      env: { ...process.env, CARETAKER_CONFIG: '' },
    });
    daemon.stdout!.resume();
    daemon.stderr!.resume();
    exited = new Promise((r) => daemon.on('exit', (code) => r(code)));
    await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    if (daemon) {
      daemon.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an operator logs in with the form, runs a task and watches it finish live, then finds it in the filtered history', async () => {
    const { context, page } = await loggedIn('operator');
    await expect.poll(() => page.locator('main table').innerText()).toContain('slow-echo');
    await page.getByRole('link', { name: 'slow-echo' }).click();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(new URL(page.url()).pathname.split('/').pop());
    // The output arrives while it runs, then the page shows the finished run without a reload by us.
    await expect.poll(() => page.locator('#output').innerText(), { timeout: 10_000 }).toContain('line 1');
    await expect
      .poll(() => page.locator('main p').first().innerText(), { timeout: 10_000 })
      .toContain('success');
    expect(await page.locator('#output').innerText()).toContain('line 3');
    expect(await page.locator('#live-status').count()).toBe(0);

    await page.goto(`${base}/tasks/slow-echo?status=success&trigger=manual#history`);
    expect(await page.getByRole('link', { name: `#${runId}`, exact: true }).count()).toBe(1);
    await page.getByLabel('Trigger').selectOption('schedule');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/trigger=schedule/);
    expect(await page.getByRole('link', { name: `#${runId}`, exact: true }).count()).toBe(0);
    expect(await page.locator('main').innerText()).toContain('No runs match.');
    await context.close();
  }, 30_000);

  it('an operator restores a run’s rollback point with a reason: the file is back on disk and the run page says so; a viewer sees no Restore', async () => {
    const file = join(dir, 'conf', 'app.yaml');
    const { context, page } = await loggedIn('operator');
    await page.goto(`${base}/tasks/push-config`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runUrl = page.url();
    restorePath = new URL(runUrl).pathname;
    await expect
      .poll(() => page.locator('main p').first().innerText(), { timeout: 10_000 })
      .toContain('success');
    expect(readFileSync(file, 'utf8')).toBe('port: 9090\n');
    await page.goto(runUrl);
    const restore = page.getByRole('button', { name: 'Restore' });
    // The reason is required: the browser does not send the form without it.
    await restore.click();
    expect(page.url()).toBe(runUrl);
    expect(readFileSync(file, 'utf8')).toBe('port: 9090\n');
    await page.getByLabel('Reason').fill('port 9090 is not open on the LB');
    await restore.click();
    await page.waitForURL(/\?notice=/);
    expect(page.url().split('?')[0]).toBe(runUrl);
    expect(readFileSync(file, 'utf8')).toBe('port: 8080\n');
    const notice = page.getByRole('status').filter({ hasText: 'Restored' });
    expect(await notice.innerText()).toMatch(
      /^Restored rb-\d+: 1 file put back, 0 deleted, \d+ unchanged\. Recorded as run #\d+\.$/,
    );
    // The rollback's own run: its reason, and a point of the state it replaced (to undo it).
    await notice.getByRole('link').click();
    expect(await page.locator('main').innerText()).toContain('port 9090 is not open on the LB');
    expect(await page.getByRole('button', { name: 'Restore' }).count()).toBe(1);
    await context.close();

    const viewer = await loggedIn('viewer');
    await viewer.page.goto(runUrl);
    expect(await viewer.page.getByRole('heading', { name: 'Rollback point' }).count()).toBe(1);
    expect(await viewer.page.getByRole('button', { name: 'Restore' }).count()).toBe(0);
    const refused = await viewer.context.request.post(`${runUrl}/restore`, {
      form: { csrf: await csrfOf(viewer.page), reason: 'let me' },
      headers: { origin: base },
    });
    expect(refused.status()).toBe(403);
    expect(readFileSync(file, 'utf8')).toBe('port: 8080\n');
    await viewer.context.close();
  }, 40_000);

  it('an operator pauses and resumes a task with its buttons', async () => {
    const { context, page } = await loggedIn('operator');
    await page.goto(`${base}/tasks/after-echo`);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.waitForURL(`${base}/tasks/after-echo`);
    expect(await page.locator('dl.facts').innerText()).toMatch(/paused\s+by web-operator/);
    const paused = await context.request.get(`${base}/v1/pauses`);
    expect(await paused.json()).toMatchObject([{ task: 'after-echo', by: 'web-operator' }]);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.waitForURL(`${base}/tasks/after-echo`);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(1);
    expect(await (await context.request.get(`${base}/v1/pauses`)).json()).toEqual([]);
    await context.close();
  }, 30_000);

  it('a viewer sees no Run or Pause button, and a POST with its cookie and CSRF token is refused 403', async () => {
    const { context, page } = await loggedIn('viewer');
    await page.goto(`${base}/tasks/slow-echo`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Task slow-echo');
    expect(await page.getByRole('button', { name: 'Run now' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    const r = await context.request.post(`${base}/tasks/slow-echo/run`, {
      form: { csrf: await csrfOf(page) },
      headers: { origin: base },
    });
    expect(r.status()).toBe(403);
    expect(await r.text()).toContain('it needs the operator role');
    await context.close();
  }, 30_000);

  it('a form POST without the session CSRF token is refused, with a wrong one too', async () => {
    const { context, page } = await loggedIn('operator');
    for (const form of [{}, { csrf: 'not-the-token' }] as Record<string, string>[]) {
      const r = await context.request.post(`${base}/tasks/slow-echo/pause`, {
        form,
        headers: { origin: base },
      });
      expect(r.status()).toBe(403);
      expect(await r.text()).toContain('CSRF token');
    }
    expect(await (await context.request.get(`${base}/v1/pauses`)).json()).toEqual([]);
    // From another site (Origin), even with the token: refused.
    const r = await context.request.post(`${base}/tasks/slow-echo/pause`, {
      form: { csrf: await csrfOf(page) },
      headers: { origin: 'http://evil.example' },
    });
    expect(r.status()).toBe(403);
    await context.close();
  }, 30_000);

  it('caretaker dashboard prints a one-time link that logs a browser in once', async () => {
    const made = cli(['dashboard'], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    const url = made.stdout.trim();
    expect(url).toMatch(new RegExp(`^${base}/login/once\\?code=[A-Za-z0-9_-]{32}$`));
    const context = await browser.newContext();
    const page = watch(await context.newPage());
    await page.goto(url);
    expect(page.url()).toBe(`${base}/`);
    expect(await page.locator('.who').innerText()).toContain('(admin)');
    // The Audit page is the admin's; it shows the link's use.
    await page.getByRole('link', { name: 'Audit' }).click();
    expect(await page.locator('main table').innerText()).toMatch(/login\.once/);
    const again = await (await browser.newContext()).newPage();
    const r = await again.goto(url);
    expect(r?.status()).toBe(401);
    expect(await again.locator('[role=alert]').innerText()).toContain('used, expired or unknown');
    await context.close();
  }, 30_000);

  it('every page has one h1, labelled controls, Tab reaches its buttons, and nothing is blocked by the CSP', async () => {
    const { context, page } = await loggedIn('admin');
    const paths = [
      '/',
      '/tasks/slow-echo',
      '/runs/1',
      '/timeline',
      '/dependencies',
      '/incidents',
      '/backups',
      '/health',
      '/audit',
      ...(restorePath ? [restorePath] : []),
    ];
    for (const path of paths) {
      const res = await page.goto(`${base}${path}`);
      expect(res?.status(), path).toBe(200);
      expect(res?.headers()['content-security-policy'], path).toContain("script-src 'self'");
      expect(await page.locator('h1').count(), path).toBe(1);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
          .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML),
      );
      expect(unlabelled, path).toEqual([]);
      // Tab through the page: the focus reaches a button (Log out at least) and never gets stuck.
      const reached = new Set<string>();
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        reached.add(await page.evaluate(() => document.activeElement?.tagName ?? ''));
        if (reached.has('BUTTON')) break;
      }
      expect([...reached], path).toContain('BUTTON');
    }
    // The charts drew (uPlot loaded under the CSP).
    await page.goto(`${base}/tasks/slow-echo`);
    await expect.poll(() => page.locator('.uplot').count()).toBe(2);
    await context.close();
    expect(problems).toEqual([]);
  }, 40_000);
});
