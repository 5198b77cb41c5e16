/**
 * A parser for the JavaScript regular expressions users write in `patterns:` (the non-`u`
 * syntax, Annex B leniency included). scan-logs needs the tree for two things the RegExp object
 * cannot tell it: which literal every match must contain (to search for it with memchr-speed
 * `Buffer.indexOf` before any regex runs), and a rewrite that makes a match over a whole chunk
 * of lines mean exactly what a match over one line means (see `line-regex.ts`).
 */

export type ClassEscape = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type ClassItem =
  | { readonly t: 'range'; readonly lo: number; readonly hi: number }
  | { readonly t: 'esc'; readonly k: ClassEscape };

export type Node =
  | { readonly t: 'char'; readonly c: number }
  | { readonly t: 'class'; readonly negated: boolean; readonly items: readonly ClassItem[] }
  | { readonly t: 'esc'; readonly k: ClassEscape }
  | { readonly t: 'dot' }
  | { readonly t: 'bol' }
  | { readonly t: 'eol' }
  | { readonly t: 'wordb'; readonly negated: boolean }
  | { readonly t: 'look'; readonly behind: boolean; readonly negated: boolean; readonly body: Alt }
  | { readonly t: 'group'; readonly capture: boolean; readonly name?: string; readonly body: Alt }
  | {
      readonly t: 'repeat';
      readonly node: Node;
      readonly min: number;
      readonly max: number;
      readonly lazy: boolean;
    }
  | { readonly t: 'backref'; readonly src: string };

export type Seq = readonly Node[];
export type Alt = readonly Seq[];

export class RegexSyntaxError extends Error {
  override name = 'RegexSyntaxError';
}

const CONTROL: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12, '0': 0 };
const CLASS_ESC = new Set(['d', 'D', 'w', 'W', 's', 'S']);

class Parser {
  i = 0;
  groups = 0;
  constructor(readonly src: string) {}

  peek(): string | undefined {
    return this.src[this.i];
  }

  fail(what: string): never {
    throw new RegexSyntaxError(`${what} at position ${this.i} of /${this.src}/`);
  }

  parseAlt(): Alt {
    const branches: Node[][] = [this.parseSeq()];
    while (this.peek() === '|') {
      this.i++;
      branches.push(this.parseSeq());
    }
    return branches;
  }

  parseSeq(): Node[] {
    const seq: Node[] = [];
    for (;;) {
      const ch = this.peek();
      if (ch === undefined || ch === '|' || ch === ')') return seq;
      const atom = this.parseAtom();
      seq.push(this.parseQuantifier(atom));
    }
  }

  parseQuantifier(node: Node): Node {
    const ch = this.peek();
    let min: number;
    let max: number;
    if (ch === '*') [min, max] = [0, Infinity];
    else if (ch === '+') [min, max] = [1, Infinity];
    else if (ch === '?') [min, max] = [0, 1];
    else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return node; // Annex B: a `{` that is not a quantifier is a literal
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return node;
    this.i++;
    if (node.t === 'bol' || node.t === 'eol' || node.t === 'wordb' || (node.t === 'look' && node.behind)) {
      this.fail('nothing to repeat');
    }
    let lazy = false;
    if (this.peek() === '?') {
      lazy = true;
      this.i++;
    }
    return { t: 'repeat', node, min, max, lazy };
  }

  parseAtom(): Node {
    const ch = this.src[this.i++]!;
    switch (ch) {
      case '.':
        return { t: 'dot' };
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '[':
        return this.parseClass();
      case '(':
        return this.parseGroup();
      case '\\':
        return this.parseEscape();
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat');
      default:
        return { t: 'char', c: ch.charCodeAt(0) };
    }
  }

  parseGroup(): Node {
    let capture = true;
    let name: string | undefined;
    let look: { behind: boolean; negated: boolean } | undefined;
    if (this.peek() === '?') {
      const rest = this.src.slice(this.i);
      if (rest.startsWith('?:')) capture = false;
      else if (rest.startsWith('?=')) look = { behind: false, negated: false };
      else if (rest.startsWith('?!')) look = { behind: false, negated: true };
      else if (rest.startsWith('?<=')) look = { behind: true, negated: false };
      else if (rest.startsWith('?<!')) look = { behind: true, negated: true };
      else {
        const m = /^\?<([A-Za-z_$][\w$]*)>/.exec(rest);
        if (!m) this.fail('invalid group');
        name = m[1];
        this.i += m[0].length;
      }
      if (name === undefined) this.i += look?.behind ? 3 : 2;
    }
    if (capture && !look) this.groups++;
    const body = this.parseAlt();
    if (this.peek() !== ')') this.fail('unterminated group');
    this.i++;
    if (look) return { t: 'look', ...look, body };
    return name !== undefined ? { t: 'group', capture: true, name, body } : { t: 'group', capture, body };
  }

  /** An escape outside a class. */
  parseEscape(): Node {
    const ch = this.src[this.i];
    if (ch === undefined) this.fail('\\ at end of pattern');
    if (ch === 'b' || ch === 'B') {
      this.i++;
      return { t: 'wordb', negated: ch === 'B' };
    }
    if (CLASS_ESC.has(ch)) {
      this.i++;
      return { t: 'esc', k: ch as ClassEscape };
    }
    if (/[1-9]/.test(ch)) {
      const m = /^\d+/.exec(this.src.slice(this.i))!;
      this.i += m[0].length;
      return { t: 'backref', src: `\\${m[0]}` };
    }
    if (ch === 'k' && this.src[this.i + 1] === '<') {
      const m = /^k<([A-Za-z_$][\w$]*)>/.exec(this.src.slice(this.i));
      if (m) {
        this.i += m[0].length;
        return { t: 'backref', src: `\\${m[0]}` };
      }
    }
    return { t: 'char', c: this.parseCharEscape() };
  }

  /** \n \t \xHH \uHHHH \cX \0 and identity escapes: one code unit. */
  parseCharEscape(): number {
    const ch = this.src[this.i++]!;
    if (ch in CONTROL && !(ch === '0' && /\d/.test(this.src[this.i] ?? ''))) return CONTROL[ch]!;
    if (ch === 'x') {
      const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i));
      if (!m) return 'x'.charCodeAt(0);
      this.i += 2;
      return parseInt(m[0], 16);
    }
    if (ch === 'u') {
      const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.i));
      if (!m) return 'u'.charCodeAt(0);
      this.i += 4;
      return parseInt(m[0], 16);
    }
    if (ch === 'c') {
      const next = this.src[this.i];
      if (next && /[A-Za-z]/.test(next)) {
        this.i++;
        return next.charCodeAt(0) % 32;
      }
      this.i--; // Annex B: `\c` not followed by a letter is a backslash then `c`
      return '\\'.charCodeAt(0);
    }
    if (/[0-7]/.test(ch)) {
      // Annex B legacy octal (\0 followed by digits, or \8-like forms handled above)
      const m = /^[0-7]{0,2}/.exec(this.src.slice(this.i))!;
      this.i += m[0].length;
      return parseInt(ch + m[0], 8);
    }
    return ch.charCodeAt(0);
  }

  parseClass(): Node {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    const items: ClassItem[] = [];
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail('unterminated character class');
      if (ch === ']') {
        this.i++;
        return { t: 'class', negated, items };
      }
      const lo = this.parseClassAtom();
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        const save = this.i;
        this.i++;
        const hi = this.parseClassAtom();
        if (typeof lo === 'number' && typeof hi === 'number') {
          if (hi < lo) this.fail('range out of order in character class');
          items.push({ t: 'range', lo, hi });
          continue;
        }
        // Annex B: `[\d-x]` is \d, '-', 'x'.
        this.i = save;
      }
      items.push(typeof lo === 'number' ? { t: 'range', lo, hi: lo } : { t: 'esc', k: lo });
    }
  }

  parseClassAtom(): number | ClassEscape {
    const ch = this.src[this.i++]!;
    if (ch !== '\\') return ch.charCodeAt(0);
    const next = this.src[this.i];
    if (next === undefined) this.fail('\\ at end of pattern');
    if (CLASS_ESC.has(next)) {
      this.i++;
      return next as ClassEscape;
    }
    if (next === 'b') {
      this.i++;
      return 8; // backspace inside a class
    }
    if (next === '-') {
      this.i++;
      return 45;
    }
    return this.parseCharEscape();
  }
}

/** Parses a JavaScript regex source (as given to `new RegExp(source)` without the `u` flag). */
export function parseRegex(source: string): Alt {
  const p = new Parser(source);
  const alt = p.parseAlt();
  if (p.i < source.length) p.fail(`unmatched ${source[p.i]}`);
  return alt;
}
