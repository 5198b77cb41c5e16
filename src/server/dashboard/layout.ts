/** The frame of every dashboard page: header with the navigation, one h1, the footer's zone. */
import type { TokenRole } from '../../caretaker.js';
import { VERSION } from '../../version.js';
import { html, type Html, type Part } from './html.js';
import { isoText, timeText } from './time-text.js';

export interface Viewer {
  readonly actor: string;
  readonly role: TokenRole;
  /** The session's CSRF token, for the hidden field of every form that changes something. */
  readonly csrf: string;
}

export interface PageContext {
  readonly viewer: Viewer;
  /** The zone times are shown in: the configuration's. */
  readonly zone: string;
  readonly now: number;
}

const RANK: Record<TokenRole, number> = { viewer: 0, operator: 1, admin: 2 };
export const allows = (v: Viewer, role: TokenRole): boolean => RANK[v.role] >= RANK[role];

const NAV: readonly { href: string; label: string; role: TokenRole }[] = [
  { href: '/', label: 'Overview', role: 'viewer' },
  { href: '/timeline', label: 'Timeline', role: 'viewer' },
  { href: '/dependencies', label: 'Dependencies', role: 'viewer' },
  { href: '/incidents', label: 'Incidents', role: 'viewer' },
  { href: '/backups', label: 'Backups', role: 'viewer' },
  { href: '/health', label: 'Health', role: 'viewer' },
  { href: '/audit', label: 'Audit', role: 'admin' },
];

/** A form that changes something: POST with the session's CSRF token. */
export function actionForm(v: Viewer, action: string, label: string, opts: { danger?: boolean } = {}): Html {
  return html`<form method="post" action="${action}" class="inline">
    <input type="hidden" name="csrf" value="${v.csrf}" /><button
      type="submit"
      ${opts.danger ? html` class="danger"` : ''}
    >
      ${label}
    </button>
  </form>`;
}

export function timeTag(t: number | null | undefined, zone: string): Html {
  if (t === null || t === undefined) return html`<span class="muted">—</span>`;
  return html`<time datetime="${isoText(t)}">${timeText(t, zone)}</time>`;
}

/** A badge with its own text, coloured as the status `tone` (success, warning, failed, …). */
export function badge(text: string, tone: string): Html {
  return html`<span class="badge s-${tone}">${text}</span>`;
}

export function statusBadge(status: string | null | undefined): Html {
  if (!status) return html`<span class="badge">never run</span>`;
  return html`<span class="badge s-${status}">${status}</span>`;
}

export function layout(
  ctx: PageContext,
  page: {
    readonly title: string;
    readonly active: string;
    readonly body: Part;
    /** Load uPlot (pages with charts). */
    readonly charts?: boolean;
    /** Reload the page's main content every N seconds (overview, a running run). */
    readonly refreshS?: number;
  },
): string {
  const v = ctx.viewer;
  const nav = NAV.filter((n) => allows(v, n.role)).map(
    (n) =>
      html`<li>
        <a href="${n.href}" ${n.href === page.active ? html` aria-current="page"` : ''}>${n.label}</a>
      </li>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${page.title} · caretaker</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
${
  page.charts
    ? html`<link rel="stylesheet" href="/assets/uPlot.min.css" />
        <script src="/assets/uPlot.iife.min.js" defer></script>`
    : ''
}
<script src="/assets/dashboard.js" defer></script>
</head>
<body${page.refreshS ? html` data-refresh="${page.refreshS}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="/">caretaker</a>
<nav aria-label="Pages"><ul>${nav}</ul></nav>
<div class="who"><span>${v.actor} <span class="muted">(${v.role})</span></span>${actionForm(v, '/logout', 'Log out')}</div>
</header>
<main id="main">
<h1>${page.title}</h1>
${page.body}
</main>
<footer>Times are shown in ${ctx.zone}. Rendered ${timeTag(ctx.now, ctx.zone)} · caretaker ${VERSION}</footer>
</body>
</html>
`.text;
}

/** The login page: a token field with its label, and the reason of a refused attempt. */
export function loginPage(error: string | null): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>Log in · caretaker</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/dashboard.css" />
      </head>
      <body class="login">
        <main id="main">
          <h1>Log in to caretaker</h1>
          ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
          <form method="post" action="/login" class="login-form">
            <label for="token">Access token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
              autofocus
              spellcheck="false"
            />
            <p class="hint">
              Create one with <code>caretaker token create NAME --role viewer</code>, or run
              <code>caretaker dashboard</code> for a one-time link.
            </p>
            <button type="submit">Log in</button>
          </form>
        </main>
      </body>
    </html> `.text;
}

/** A refusal or an error, as a page (the API's routes answer JSON). */
export function messagePage(title: string, message: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="color-scheme" content="light dark" />
        <title>${title} · caretaker</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/dashboard.css" />
      </head>
      <body class="login">
        <main id="main">
          <h1>${title}</h1>
          <p class="error" role="alert">${message}</p>
          <p><a href="/">Back to the overview</a></p>
        </main>
      </body>
    </html> `.text;
}
