/**
 * User and group names to ids for `create: { owner, group }`: a number as is, then /etc/passwd
 * and /etc/group, then `getent` (LDAP, sssd...). Node has no getpwnam.
 */
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../core/clock.js';
import { runInProcessGroup } from '../../os/process-group.js';

export type IdKind = 'user' | 'group';

async function fromFile(kind: IdKind, name: string): Promise<number | undefined> {
  const file = kind === 'user' ? '/etc/passwd' : '/etc/group';
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}

export interface LookupContext {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly killGraceMs: number;
}

/** The id of a user or group, or an Error naming what could not be found. */
export async function lookupId(kind: IdKind, name: string | number, ctx: LookupContext): Promise<number> {
  if (typeof name === 'number') return name;
  if (/^\d+$/.test(name)) return Number(name);
  const local = await fromFile(kind, name);
  if (local !== undefined) return local;
  let out = '';
  const r = await runInProcessGroup({
    command: ['getent', kind === 'user' ? 'passwd' : 'group', name],
    cwd: '/',
    env: process.env,
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onOutput: (t) => (out += t),
  });
  const id = r.exitCode === 0 ? out.split(':')[2] : undefined;
  if (id !== undefined && /^\d+$/.test(id)) return Number(id);
  throw new Error(`create.${kind === 'user' ? 'owner' : 'group'}: no ${kind} named "${name}" on this host`);
}
