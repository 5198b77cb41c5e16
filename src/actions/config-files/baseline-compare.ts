/**
 * The baseline of validate-config: per file, its checksum and its keys (secrets as salted
 * hashes), kept in the task's state dir. The first sight of a file records it; later runs report
 * what changed key by key; `update` adopts the new content after reporting it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../os/atomic-write.js';
import { diffKeys, driftCount, flattenKeys, type FlatKeys } from '../../schema/config-files/config-drift.js';
import type { ConfigFormat, FileReport, ParsedConfig } from '../../schema/config-files/parsed-file.js';

interface BaselineFile {
  readonly version: 1;
  readonly salt: string;
  readonly files: Record<
    string,
    { sha256: string; format: ConfigFormat; recordedAt: number; keys: FlatKeys }
  >;
}

export interface BaselineInput {
  /** Where the baseline is kept. */
  readonly file: string;
  readonly reports: readonly FileReport[];
  readonly parsed: ReadonlyMap<string, { parsed: ParsedConfig; sha256: string }>;
  readonly now: number;
  readonly update: boolean;
  readonly dryRun: boolean;
}

async function read(path: string): Promise<BaselineFile | null> {
  try {
    const b = JSON.parse(await readFile(path, 'utf8')) as BaselineFile;
    return b.version === 1 && typeof b.salt === 'string' && typeof b.files === 'object' ? b : null;
  } catch {
    return null;
  }
}

export async function compareWithBaseline(
  input: BaselineInput,
): Promise<{ reports: FileReport[]; drifted: number; recorded: number }> {
  const before = await read(input.file);
  const salt = before?.salt ?? randomBytes(16).toString('hex');
  const next: BaselineFile = { version: 1, salt, files: { ...before?.files } };
  let recorded = 0;
  let drifted = 0;
  const reports = input.reports.map((r): FileReport => {
    const old = before?.files[r.file];
    const p = input.parsed.get(r.file);
    if (!p) {
      if (old && r.problems[0]?.message === 'no such file') {
        drifted++;
        return { ...r, baseline: 'deleted' };
      }
      return r;
    }
    const entry = {
      sha256: p.sha256,
      format: p.parsed.format,
      recordedAt: input.now,
      keys: flattenKeys(p.parsed.data, salt),
    };
    if (!old) {
      next.files[r.file] = entry;
      recorded++;
      return { ...r, baseline: 'recorded' };
    }
    if (old.sha256 === p.sha256) return { ...r, baseline: 'unchanged' };
    if (input.update) next.files[r.file] = entry;
    const drift = diffKeys(old.keys, entry.keys);
    if (driftCount(drift) === 0) return { ...r, baseline: 'formatting only' };
    drifted++;
    return { ...r, baseline: 'drifted', drift };
  });
  if (!input.dryRun && (recorded > 0 || input.update)) {
    await mkdir(dirname(input.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(input.file, `${JSON.stringify(next)}\n`, { mode: 0o600 });
  }
  return { reports, drifted, recorded };
}
