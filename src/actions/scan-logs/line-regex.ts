/**
 * Turns a user's pattern into a scanning plan with `grep -c` semantics on raw bytes.
 *
 * 1. Per-line rewrite. Chunks of many lines are matched at once (a latin1 string of the chunk:
 *    one char per byte, so offsets are byte offsets and any byte sequence is representable).
 *    For a match over a chunk to mean a match within one line, nothing may match a newline:
 *    `.` becomes `[^\n]`, `\s` `[\t\v\f\r ]` (JavaScript's would also match byte 0xA0, found inside
 *    UTF-8 sequences), `\D` `[^\d\n]`, `\W` `[^\w\n]`, `[^…]` `[^…\n]`, a class
 *    that could hold `\n` is fenced with `(?!\n)`, and `^` / `$` become `(?<![^\n])` /
 *    `(?![^\n])` (start/end of the line, where JavaScript's `m` flag would also stop at `\r`).
 *    Lookarounds then see a line boundary as they would see the end of a one-line string.
 *    Characters outside ASCII are written as their UTF-8 bytes, which is what the file holds;
 *    `ignore_case` becomes `[eE]` classes (ASCII only, as `LC_ALL=C grep -i`).
 * 2. Literal extraction (`literal-extraction.ts`): the literal the scanner searches first.
 */
import { infoOfAlt, minimal, utf8Bytes } from './literal-extraction.js';
import { parseRegex, type Alt, type ClassItem, type Node } from './regex-syntax.js';

export interface PatternPlan {
  readonly name: string;
  /** As written by the user. */
  readonly pattern: string;
  readonly ignoreCase: boolean;
  /** The rewritten source: same matches within a line, never across one. */
  readonly source: string;
  readonly flags: string;
  /** A literal (latin1 bytes) every match contains, searched with Buffer.indexOf; undefined: run the regex. */
  readonly literal: string | undefined;
  /** A line contains `literal` ⇔ the line matches: no regex needs to run at all. */
  readonly literalIsMatch: boolean;
}

export class PatternError extends Error {
  override name = 'PatternError';
}

/** Shortest literal worth an indexOf pass of its own (shorter ones hit too often to pay off). */
const MIN_LITERAL = 3;

function hex(c: number): string {
  return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

const SAFE = /[A-Za-z0-9 _,:;'"!@#%&=<>~`]/;

/** ASCII whitespace as grep's [[:space:]] without the newline (JavaScript's \s also has 0xA0). */
const SPACE_ITEMS = '\\t\\v\\f\\r\\x20';

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Emission context: case-insensitive patterns get [eE] classes instead of the `i` flag. */
interface Emit {
  readonly pattern: string;
  readonly ignoreCase: boolean;
}

function emitChar(c: number, x: Emit): string {
  const ch = String.fromCharCode(c);
  if (c === 10) return '[]'; // a newline cannot occur inside a line: this never matches
  if (x.ignoreCase && isLetter(c)) return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
  if (c < 0x80) return SAFE.test(ch) ? ch : hex(c);
  const bytes = utf8Bytes(c);
  const out = [...bytes].map((b) => hex(b.charCodeAt(0))).join('');
  return `(?:${out})`;
}

function classMayHoldNewline(items: readonly ClassItem[]): boolean {
  return items.some((it) => (it.t === 'range' ? it.lo <= 10 && it.hi >= 10 : it.k === 'D' || it.k === 'W'));
}

/** The other-case counterparts of the ASCII letters in [lo, hi], as ranges. */
function otherCase(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, z, shift] of [
    [65, 90, 32],
    [97, 122, -32],
  ] as const) {
    const l = Math.max(lo, a);
    const h = Math.min(hi, z);
    if (l <= h) out.push([l + shift, h + shift]);
  }
  return out;
}

/** Class items without \S (handled by the caller); \s is spelled out as ASCII whitespace. */
function emitClassItems(items: readonly ClassItem[], x: Emit): string {
  const range = (lo: number, hi: number) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`);
  return items
    .map((it) => {
      if (it.t === 'esc') return it.k === 's' ? SPACE_ITEMS : `\\${it.k}`;
      if (it.hi >= 0x80) {
        throw new PatternError(
          `/${x.pattern}/: characters outside ASCII inside [...] are not supported (lines are matched as bytes); write them outside a class, e.g. (é|è)`,
        );
      }
      const extra = x.ignoreCase ? otherCase(it.lo, it.hi).map(([l, h]) => range(l, h)) : [];
      return range(it.lo, it.hi) + extra.join('');
    })
    .join('');
}

function emitClass(negated: boolean, items: readonly ClassItem[], x: Emit): string {
  const nonSpace = items.some((it) => it.t === 'esc' && it.k === 'S');
  const rest = items.filter((it) => !(it.t === 'esc' && it.k === 'S'));
  if (nonSpace) {
    if (negated)
      throw new PatternError(
        `/${x.pattern}/: \\S inside [^...] is not supported; use [...] of the characters`,
      );
    const others = rest.length > 0 ? `|${emitClass(false, rest, x)}` : '';
    return `(?:[^${SPACE_ITEMS}\\n]${others})`;
  }
  const inner = emitClassItems(rest, x);
  if (negated) return `[^${inner}\\n]`;
  if (rest.length === 0) return '[]';
  return classMayHoldNewline(rest) ? `(?:(?!\\n)[${inner}])` : `[${inner}]`;
}

function emitNode(n: Node, x: Emit): string {
  switch (n.t) {
    case 'char':
      return emitChar(n.c, x);
    case 'class':
      return emitClass(n.negated, n.items, x);
    case 'esc':
      return {
        d: '\\d',
        D: '[^\\d\\n]',
        w: '\\w',
        W: '[^\\w\\n]',
        s: `[${SPACE_ITEMS}]`,
        S: `[^${SPACE_ITEMS}\\n]`,
      }[n.k];
    case 'dot':
      return '[^\\n]';
    case 'bol':
      return '(?<![^\\n])';
    case 'eol':
      return '(?![^\\n])';
    case 'wordb':
      return n.negated ? '\\B' : '\\b';
    case 'look':
      return `(?${n.behind ? '<' : ''}${n.negated ? '!' : '='}${emitAlt(n.body, x)})`;
    case 'group':
      return `(${n.name !== undefined ? `?<${n.name}>` : n.capture ? '' : '?:'}${emitAlt(n.body, x)})`;
    case 'repeat': {
      const q =
        n.min === 0 && n.max === Infinity
          ? '*'
          : n.min === 1 && n.max === Infinity
            ? '+'
            : n.min === 0 && n.max === 1
              ? '?'
              : n.max === Infinity
                ? `{${n.min},}`
                : n.min === n.max
                  ? `{${n.min}}`
                  : `{${n.min},${n.max}}`;
      return `${emitNode(n.node, x)}${q}${n.lazy ? '?' : ''}`;
    }
    case 'backref':
      if (x.ignoreCase) {
        throw new PatternError(`/${x.pattern}/: backreferences cannot be combined with ignore_case`);
      }
      return n.src;
  }
}

function emitAlt(alt: Alt, x: Emit): string {
  return alt.map((seq) => seq.map((n) => emitNode(n, x)).join('')).join('|');
}

/** Plans are pure functions of their inputs; a daemon scanning every minute reuses them. */
const plans = new Map<string, PatternPlan>();

/** Builds the scanning plan of one named pattern. Throws PatternError for what cannot be honoured. */
export function planPattern(name: string, pattern: string, ignoreCase: boolean): PatternPlan {
  const key = JSON.stringify([name, pattern, ignoreCase]);
  const known = plans.get(key);
  if (known) return known;
  const plan = buildPlan(name, pattern, ignoreCase);
  if (plans.size < 1000) plans.set(key, plan);
  return plan;
}

function buildPlan(name: string, pattern: string, ignoreCase: boolean): PatternPlan {
  let tree: Alt;
  try {
    new RegExp(pattern);
    tree = parseRegex(pattern);
  } catch (err) {
    throw new PatternError(`/${pattern}/ is not a valid regular expression: ${(err as Error).message}`);
  }
  const source = emitAlt(tree, { pattern, ignoreCase });
  // Case-insensitivity is spelled out as [eE] classes (ASCII letters only, as `LC_ALL=C grep -i`):
  // the `i` flag would also fold the latin1 characters that UTF-8's bytes look like.
  const flags = '';
  new RegExp(source, flags); // the rewrite must compile too
  const info = infoOfAlt(tree);
  const lits = info.lits ? minimal(info.lits) : null;
  let literal: string | undefined;
  let literalIsMatch = false;
  if (!ignoreCase && lits?.length === 1 && lits[0]!.length >= MIN_LITERAL) {
    literal = lits[0]!;
    literalIsMatch = info.equiv;
  } else if (!ignoreCase && info.single !== null && info.single.length >= MIN_LITERAL) {
    literal = info.single;
  }
  return { name, pattern, ignoreCase, source, flags, literal, literalIsMatch };
}
