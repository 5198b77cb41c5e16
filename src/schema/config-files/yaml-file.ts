/**
 * YAML with positions (the same parser caretaker reads its own config with): syntax errors with
 * line and column, duplicate keys refused, several `---` documents read as a list of documents.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { SourceMap, yamlErrorAt } from '../source-map.js';
import { duplicateKeys, toData } from '../yaml-guards.js';
import type { DataPath, FileProblem, ParseOutcome, Position } from './parsed-file.js';

export function parseYaml(text: string): ParseOutcome {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by duplicateKeys(), in linear time (the parser's own check is quadratic).
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: FileProblem[] = [];
  for (const doc of list) {
    for (const e of doc.errors) {
      const at = yamlErrorAt(e, lineCounter);
      problems.push({ line: at.line, column: at.column, path: '', message: at.message });
    }
    for (const at of duplicateKeys(doc, lineCounter))
      problems.push({ line: at.line, column: at.column, path: '', message: at.message });
  }
  if (!Array.isArray(docs)) {
    // An empty stream: parseAllDocuments returns an EmptyStream; its data is null.
    return {
      ok: true,
      file: {
        format: 'yaml',
        data: null,
        locate: () => ({ line: 1, column: 1 }),
        locateKey: () => ({ line: 1, column: 1 }),
      },
    };
  }
  if (problems.length > 0) return { ok: false, problems };
  const maps = list.map((d) => new SourceMap(d, lineCounter));
  const many = list.length > 1;
  const converted = list.map((d) => toData(d, lineCounter));
  const failed = converted.find((c) => !c.ok);
  if (failed && !failed.ok) return { ok: false, problems: [{ ...failed.error, path: '' }] };
  const values = converted.map((c) => (c.ok ? c.data : undefined));
  const data = many ? values : values[0];
  // With several documents the first path element picks the document.
  const pick = (path: DataPath): [SourceMap, DataPath] =>
    many ? [maps[Number(path[0] ?? 0)] ?? maps[0]!, path.slice(1)] : [maps[0]!, path];
  const locate = (path: DataPath): Position => {
    const [map, rest] = pick(path);
    return map.valueAt(rest);
  };
  const locateKey = (path: DataPath, key: string): Position => {
    const [map, rest] = pick(path);
    return map.keyAt(rest, key);
  };
  return { ok: true, file: { format: 'yaml', data: toPlain(data), locate, locateKey } };
}

/** Dates and other non-JSON values as JSON would have them, so every format compares alike. */
export function toPlain(data: unknown): unknown {
  return data === undefined ? null : (JSON.parse(JSON.stringify(data)) as unknown);
}
