/**
 * `verify-backups` on a copy (`copy:`): streams the copy's archives — the newest `latest`, or with
 * `subset` this run's slice of them — and checks every checksum; with `copy.drill` the newest
 * archive of the copy is restored into a temp dir (decrypted with the identity when the copy is
 * encrypted), compared with the local archive of the same name when there is one, and checked
 * as a local drill is. Each archive is downloaded once, whatever is done with it.
 */
import { plural } from '../../core/plural.js';
import type { DrillResult } from '../../backup/drill.js';
import { AgeError, parseIdentities, readIdentityFile } from '../../backup/age-stream.js';
import { listRemote, type RemoteArchive } from '../../backup/offsite.js';
import {
  checksumProblem,
  inspectFetched,
  verifyRemote,
  withFetched,
  type RemoteCheck,
} from '../../backup/offsite-verify.js';
import type { Sidecar } from '../../backup/manifest.js';
import type { CopyTarget } from '../../backup/copy-target.js';
import { openTarget } from '../../backup/copy-targets.js';
import type { ActionContext } from '../types.js';
import { drillParent, runDrill, type Options } from './run-drill.js';
import { inSlice, sliceText, type Slice } from './slice.js';

type CopyCheckOptions = NonNullable<Options['copy']>;

export interface CopyOutcome {
  readonly ok: boolean;
  /** One line for the summary. */
  readonly line: string;
  /** The archives whose checksums were checked this run. */
  readonly archives: string[];
  readonly subset: string | null;
  readonly drill: DrillResult | null;
}

function identitiesOf(ctx: ActionContext, c: CopyCheckOptions): string[] | undefined {
  if (c.identity_file) return readIdentityFile(ctx.resolvePath(c.identity_file));
  if (!c.identity_env) return undefined;
  const v = process.env[c.identity_env];
  if (!v) throw new AgeError(`identity_env: environment variable ${c.identity_env} is not set`);
  return parseIdentities(v, `environment variable ${c.identity_env}`);
}

/** Which archives of the copy this run checks: the slice of the pool, or the newest `latest` (1). */
export function remoteChoice(
  all: readonly RemoteArchive[],
  c: CopyCheckOptions,
  slice?: Slice,
): RemoteArchive[] {
  if (!slice) return all.slice(0, c.latest ?? 1);
  return inSlice(c.latest ? all.slice(0, c.latest) : all, slice);
}

export interface CopyCheckInput {
  readonly task: string | undefined;
  readonly slice: Slice | undefined;
  /** The sidecar of the local archive of this name, when there is one. */
  readonly localSidecar: (name: string) => Sidecar | undefined;
}

async function drillFetched(
  ctx: ActionContext,
  o: Options,
  a: RemoteArchive,
  path: string | undefined,
  remote: Sidecar | undefined,
  local: Sidecar | undefined,
): Promise<DrillResult> {
  const failed = (failure: string): DrillResult => ({
    ok: false,
    archive: a.url,
    files: 0,
    bytes: 0,
    checks: [],
    failure,
  });
  if (!path || !remote)
    return failed(
      `${a.name} is encrypted: a drill of the copy needs copy.identity_file or copy.identity_env`,
    );
  // The copy must be the archive this host wrote, not merely a consistent one.
  if (local && (local.archive.sha256 !== remote.archive.sha256 || local.archive.size !== remote.archive.size))
    return failed(`${a.name} in the copy differs from the local archive of that name (SHA-256 or size)`);
  const r = await runDrill(ctx, o, path);
  return { ...r, archive: a.url };
}

export async function verifyCopy(
  ctx: ActionContext,
  o: Options,
  input: CopyCheckInput,
): Promise<CopyOutcome> {
  const c = o.copy!;
  let t: CopyTarget | undefined;
  const subset = input.slice ? sliceText(input.slice) : null;
  const none = { archives: [], subset, drill: null };
  try {
    t = openTarget(c, { env: process.env, baseDir: ctx.baseDir });
    const ids = identitiesOf(ctx, c);
    const all = await listRemote(t, input.task);
    if (all.length === 0) return { ok: false, line: `copy ${t.url} holds no complete archive`, ...none };
    const chosen = remoteChoice(all, c, input.slice);
    const newest = c.drill ? all[0]! : undefined;
    const fetchList = newest && !chosen.includes(newest) ? [...chosen, newest] : chosen;
    const checks: RemoteCheck[] = [];
    let drill: DrillResult | null = null;
    for (const a of fetchList) {
      // Checked as it downloads, unless the drill restores it: that needs the file.
      if (a !== newest) {
        checks.push(await verifyRemote(t, a, ids, { signal: ctx.signal }));
        continue;
      }
      await withFetched(
        t,
        a,
        ids,
        async (f) => {
          let check: RemoteCheck | undefined;
          if (chosen.includes(a)) checks.push((check = await inspectFetched(a, f, { signal: ctx.signal })));
          if (a !== newest) return;
          const bad = check && !check.ok ? check.problems[0] : checksumProblem(f);
          drill = bad
            ? { ok: false, archive: a.url, files: 0, bytes: 0, checks: [], failure: `${a.name}: ${bad}` }
            : await drillFetched(ctx, o, a, f.path, f.sidecar, input.localSidecar(a.name));
        },
        { parent: newest ? drillParent(ctx, o) : undefined, signal: ctx.signal },
      );
    }
    return summarize(t.url, all.length, checks, subset, drill, newest?.name);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = err instanceof AgeError ? err.message : t ? t.describeError(err) : (err as Error).message;
    return {
      ok: false,
      line: /^(copy |s3:\/\/|sftp:\/\/)/.test(why) ? why : `copy ${t?.url ?? c.to}: ${why}`,
      ...none,
    };
  } finally {
    t?.close();
  }
}

function summarize(
  url: string,
  total: number,
  checks: readonly RemoteCheck[],
  subset: string | null,
  drill: DrillResult | null,
  drilled: string | undefined,
): CopyOutcome {
  const archives = checks.map((r) => r.archive.name);
  const bad = checks.filter((r) => !r.ok);
  const blind = checks.filter((r) => !r.lookedInside).length;
  const where = subset ? ` (${subset})` : '';
  let line =
    checks.length === 0
      ? `copy ${url}: ${subset} holds no archive this run (${plural(total, 'archive')} in all)`
      : bad.length > 0
        ? `copy ${url}: ${bad.length} of ${checks.length} FAILED: ${bad[0]!.archive.name}: ${bad[0]!.problems[0] ?? 'unknown problem'}`
        : `copy ${url}: verified ${plural(checks.length, 'archive')}${where}${blind ? ' (ciphertext checksum only: no identity)' : ''}`;
  const d = drill as DrillResult | null;
  if (d)
    line += d.ok
      ? `; restore drill of the copy's ${drilled} passed (${plural(d.files, 'file')})`
      : `; restore drill of the copy FAILED: ${d.failure}`;
  return { ok: bad.length === 0 && (d?.ok ?? true), line, archives, subset, drill: d };
}
