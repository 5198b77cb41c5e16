/**
 * An application's own data files: a JSON array of records, a JSON object holding one (`{ "runs":
 * [...] }`), or JSON Lines. Used by the `metrics_file` health check and the `export` action.
 */
import { readFile } from 'node:fs/promises';

export class RecordsFileError extends Error {
  override name = 'RecordsFileError';
}

export function parseRecords(text: string, file: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const doc: unknown = JSON.parse(trimmed);
      if (Array.isArray(doc)) return doc;
      if (typeof doc === 'object' && doc !== null) {
        const arrays = Object.values(doc).filter(Array.isArray);
        if (arrays.length === 1) return arrays[0]!;
        return [doc];
      }
    } catch {
      // Not one JSON document: JSON Lines start with "{" too.
    }
  }
  const out: unknown[] = [];
  const lines = trimmed.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line));
    } catch {
      // A line being written at this moment is the last one; anything else is a broken file.
      if (i === lines.length - 1) return;
      throw new RecordsFileError(
        `${file}:${i + 1}: not JSON (expected a JSON array or one JSON object per line)`,
      );
    }
  });
  return out;
}

export async function readRecords(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RecordsFileError(`${file}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  }
  return parseRecords(text, file);
}

/** An ISO date string or epoch seconds / milliseconds → epoch ms. */
export function timestampOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1_000 : v;
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return timestampOf(Number(v));
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
