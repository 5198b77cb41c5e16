/**
 * `.env` files as docker compose and dotenv read them: `KEY=value` lines, optional `export`,
 * `#` comments, single quotes (literal) and double quotes (escapes, may span lines).
 * Every syntax error carries its line and column.
 */
import { LineIndex, type FileProblem, type ParseOutcome, type Position } from './parsed-file.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

export function parseDotenv(text: string): ParseOutcome {
  const index = new LineIndex(text);
  const values: Record<string, string> = {};
  const positions = new Map<string, Position>();
  const problems: FileProblem[] = [];
  const problem = (offset: number, message: string) =>
    problems.push({ ...index.at(offset), path: '', message });
  let i = 0;
  const n = text.length;
  const skipBlanks = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const toEol = () => {
    while (i < n && text[i] !== '\n') i++;
  };
  while (i < n) {
    skipBlanks();
    if (i >= n) break;
    if (text[i] === '\n' || text[i] === '\r') {
      i++;
      continue;
    }
    if (text[i] === '#') {
      toEol();
      continue;
    }
    if (text.startsWith('export ', i)) {
      i += 7;
      skipBlanks();
    }
    const keyAt = i;
    const key = KEY.exec(text.slice(i, i + 256))?.[0];
    if (!key) {
      problem(i, 'expected a variable name (letters, digits, _) at the start of the line, as in KEY=value');
      toEol();
      continue;
    }
    i += key.length;
    skipBlanks();
    if (text[i] !== '=') {
      problem(i, `expected = after ${key}, as in ${key}=value`);
      toEol();
      continue;
    }
    i++;
    skipBlanks();
    let value = '';
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const openAt = i;
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === quote) {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && quote === '"' && i + 1 < n) {
          value += ESCAPES[text[i + 1]!] ?? `\\${text[i + 1]}`;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      if (!closed) {
        problem(openAt, `the ${quote === '"' ? 'double' : 'single'} quote opened here is never closed`);
        break;
      }
      skipBlanks();
      if (i < n && text[i] !== '\n' && text[i] !== '\r' && text[i] !== '#') {
        problem(
          i,
          'unexpected text after the closing quote; quote the whole value or put a # before a comment',
        );
        toEol();
        continue;
      }
      toEol();
    } else {
      const start = i;
      toEol();
      const raw = text.slice(start, i).replace(/\r$/, '');
      // A # starts a comment only after whitespace, so `color=#fff` keeps its value.
      const hash = raw.search(/\s#/);
      value = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    }
    const seen = positions.get(key);
    if (seen) {
      // Tools disagree on which one wins (dotenv keeps the first, compose the last): say so.
      problem(keyAt, `${key} is set twice (first on line ${seen.line}); tools disagree on which one wins`);
      continue;
    }
    values[key] = value;
    positions.set(key, index.at(keyAt));
  }
  if (problems.length > 0) return { ok: false, problems };
  const locate = (path: readonly (string | number)[]) =>
    (path.length > 0 ? positions.get(String(path[0])) : undefined) ?? { line: 1, column: 1 };
  return {
    ok: true,
    file: {
      format: 'env',
      data: values,
      locate,
      locateKey: (_p, key) => positions.get(key) ?? { line: 1, column: 1 },
    },
  };
}
