/**
 * token create | list | revoke, and audit. They work on the store directly, daemon or not (the
 * store is shared; a running daemon checks each request against it), and the changes are
 * audited here with the Unix user as the actor — the API audits its own in the route helper.
 */
import { userInfo } from 'node:os';
import type { AccessControl, AuditRecord, Caretaker, TokenView } from '../../caretaker.js';
import { parseDuration } from '../../core/duration.js';
import { UsageError } from '../../errors/usage-error.js';
import { existsSync } from 'node:fs';
import { configPath, openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { oneLine, relative, table } from '../format.js';

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function cliActor(): string {
  try {
    return `unix:${userInfo().username}`;
  } catch {
    return `unix:uid-${process.getuid?.() ?? '?'}`;
  }
}

/**
 * Runs a change made from the command line without a daemon and writes its audit row (actor the
 * Unix user, source `cli`): ok, or failed with the error's message.
 */
export async function auditedByCli<T>(
  caretaker: Caretaker,
  what: { action: string; target: string },
  change: () => Promise<T>,
  detail: (out: T) => string | null = () => null,
): Promise<T> {
  const access = await caretaker.access();
  const row = { actor: cliActor(), source: 'cli', ...what };
  let out: T;
  try {
    out = await change();
  } catch (err) {
    await access.record({ ...row, outcome: 'failed', detail: (err as Error).message });
    throw err;
  }
  await access.record({ ...row, outcome: 'ok', detail: detail(out) });
  return out;
}

/**
 * The audit row of a change this command made without a daemon and without a caretaker of its
 * own open (create-task, schedule-task, backup restore): written afterwards on the store the
 * config names. No config file (a restore on a bare host): nothing to write to. A store that
 * cannot be opened is said on stderr; the change itself stands.
 */
export async function auditCliChange(
  opts: GlobalOptions,
  what: { action: string; target: string; outcome?: 'ok' | 'failed'; detail: string | null },
  warn: (line: string) => void,
): Promise<void> {
  if (!existsSync(configPath(opts))) return;
  try {
    const caretaker = await openCaretaker(opts);
    try {
      await (
        await caretaker.access()
      ).record({
        actor: cliActor(),
        source: 'cli',
        action: what.action,
        target: what.target,
        outcome: what.outcome ?? 'ok',
        detail: what.detail,
      });
    } finally {
      await caretaker.close();
    }
  } catch (err) {
    warn(`note: the change is made, but its audit row could not be written: ${(err as Error).message}`);
  }
}

async function withAccess<T>(
  opts: GlobalOptions,
  fn: (a: AccessControl, c: Caretaker) => Promise<T>,
): Promise<T> {
  const caretaker = await openCaretaker(opts);
  try {
    return await fn(await caretaker.access(), caretaker);
  } finally {
    await caretaker.close();
  }
}

/** `in 3d (EXPIRES SOON)`, `EXPIRED 2h ago`, `never`. */
export function expiryText(t: TokenView, now: number): string {
  if (t.expiresAt === null) return 'never';
  if (t.expired) return `EXPIRED ${relative(t.expiresAt, now)}`;
  return `${relative(t.expiresAt, now)}${t.expiresSoon ? ' (EXPIRES SOON)' : ''}`;
}

/** One warning line about tokens that expire within 7 days, or null. */
export function expiringLine(tokens: readonly TokenView[], now: number): string | null {
  const soon = tokens.filter((t) => t.expiresSoon);
  if (soon.length === 0) return null;
  return `${soon.length === 1 ? 'a token expires' : `${soon.length} tokens expire`} within 7 days: ${soon
    .map((t) => `${t.name} (${relative(t.expiresAt, now)})`)
    .join(', ')} — make a new one with caretaker token create`;
}

export async function tokenCreateCommand(
  name: string,
  opts: GlobalOptions & { role?: string; expires?: string; tasks?: string },
  io: Io,
): Promise<number> {
  if (opts.role === undefined) throw new UsageError('token create needs --role viewer, operator or admin');
  let expiresInMs: number | null = null;
  if (opts.expires !== undefined) {
    const ms = parseDuration(opts.expires);
    if (ms === undefined || ms <= 0)
      throw new UsageError(`--expires expects a duration such as 30d, 12h or 2w, got "${opts.expires}"`);
    expiresInMs = ms;
  }
  const tasks =
    opts.tasks === undefined
      ? null
      : opts.tasks
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '');
  const made = await withAccess(opts, (access, caretaker) =>
    auditedByCli(
      caretaker,
      { action: 'token.create', target: name },
      () => access.createToken({ name, role: opts.role!, expiresInMs, tasks }),
      ({ record: r }) =>
        `role ${r.role}${r.expiresAt ? `, expires ${iso(r.expiresAt)}` : ''}${r.tasks ? `, tasks ${r.tasks.join(',')}` : ''}`,
    ),
  );
  const r = made.record;
  if (opts.json) {
    printJson(io, { ...r, token: made.token });
    return 0;
  }
  // The token alone on stdout (TOKEN=$(caretaker token create …) works); the rest on stderr.
  io.out(made.token);
  io.err(
    `token "${r.name}" (${r.role}${r.tasks ? `, only ${r.tasks.join(', ')}` : ''}) ${r.expiresAt ? `expires ${iso(r.expiresAt)}` : 'never expires'}.\n` +
      'It is shown this once: caretaker keeps only its SHA-256. Send it as "Authorization: Bearer TOKEN".',
  );
  return 0;
}

export async function tokenListCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const tokens = await withAccess(opts, (a) => a.listTokens());
  const now = Date.now();
  if (opts.json) {
    printJson(io, tokens);
    return 0;
  }
  if (tokens.length === 0) {
    io.out('no tokens (caretaker token create NAME --role viewer|operator|admin)');
    return 0;
  }
  io.out(
    table(
      ['NAME', 'ROLE', 'TASKS', 'EXPIRES', 'LAST USED', 'REVOKED'],
      tokens.map((t) => [
        t.name,
        t.role,
        t.tasks ? t.tasks.join(',') : 'all',
        expiryText(t, now),
        t.lastUsedAt === null ? 'never' : relative(t.lastUsedAt, now),
        t.revokedAt === null ? '-' : iso(t.revokedAt),
      ]),
    ),
  );
  const warning = expiringLine(tokens, now);
  if (warning) io.err(`warning: ${warning}`);
  return 0;
}

export async function tokenRevokeCommand(name: string, opts: GlobalOptions, io: Io): Promise<number> {
  const { record, already } = await withAccess(opts, (access, caretaker) =>
    auditedByCli(
      caretaker,
      { action: 'token.revoke', target: name },
      () => access.revokeToken(name),
      (o) => (o.already ? `already revoked at ${iso(o.record.revokedAt)}` : null),
    ),
  );
  if (opts.json) printJson(io, { ...record, alreadyRevoked: already });
  else
    io.out(
      already
        ? `token "${name}" was already revoked at ${iso(record.revokedAt)}`
        : `token "${name}" revoked: requests with it are refused from now on`,
    );
  return 0;
}

export async function auditCommand(
  opts: GlobalOptions & { since?: string; limit?: string },
  io: Io,
): Promise<number> {
  const sinceText = opts.since ?? '7d';
  const span = parseDuration(sinceText);
  if (span === undefined || span <= 0)
    throw new UsageError(`--since expects a duration such as 7d, 24h or 2w, got "${sinceText}"`);
  const limit = opts.limit === undefined ? 1_000 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit expects a whole number, got "${opts.limit}"`);
  const rows: AuditRecord[] = await withAccess(opts, (a) => a.audit({ since: Date.now() - span, limit }));
  if (opts.json) {
    printJson(io, rows);
    return 0;
  }
  if (rows.length === 0) {
    io.out(`nothing in the audit log since ${sinceText} ago`);
    return 0;
  }
  io.out(
    table(
      ['WHEN', 'ACTOR', 'SOURCE', 'ACTION', 'TARGET', 'OUTCOME', 'DETAIL'],
      rows.map((r) => [
        iso(r.at),
        r.actor,
        r.source,
        r.action,
        r.target ?? '-',
        r.outcome === 'ok' ? 'ok' : r.outcome.toUpperCase(),
        oneLine(r.detail, 70),
      ]),
    ),
  );
  return 0;
}
