/**
 * Literal extraction for scan-logs' prefilter: from a parsed pattern, a set of literals of which
 * every match must contain one (`Connection.*(refused|failed)` → `Connection`; `ERROR|FATAL` →
 * both), the longest single literal every match contains, and whether containing a literal is
 * the same as matching (`WARN(ING)?` → `WARN`: no regex needs to run). Strings are latin1 byte
 * strings (UTF-8 bytes of the pattern's characters), as the scanner searches bytes.
 */
import type { Alt, ClassItem, Node, Seq } from './regex-syntax.js';

/** Bound on the sets of strings tracked while extracting literals. */
const MAX_SET = 16;

export function utf8Bytes(c: number): string {
  return Buffer.from(String.fromCharCode(c), 'utf8').toString('latin1');
}

/** What literal analysis knows of a node. Strings are latin1 byte strings. */
export interface Info {
  /** Every string the node can match, when that is a small finite set. */
  readonly exact: readonly string[] | null;
  /** Every match contains one of these (null: no such set known). */
  readonly lits: readonly string[] | null;
  /** Containing one of `lits` is the same as matching somewhere in the line. */
  readonly equiv: boolean;
  /** Can match the empty string. */
  readonly nullable: boolean;
  /** Holds an assertion, lookaround or backreference (so it is not free to ignore when nullable). */
  readonly constrained: boolean;
  /** The longest single literal known to be in every match (null: none). */
  readonly single: string | null;
}

const OPAQUE: Info = {
  exact: null,
  lits: null,
  equiv: false,
  nullable: false,
  constrained: false,
  single: null,
};
const ZERO_WIDTH: Info = {
  exact: [''],
  lits: null,
  equiv: false,
  nullable: true,
  constrained: true,
  single: null,
};

function product(a: readonly string[], b: readonly string[]): string[] | null {
  if (a.length * b.length > MAX_SET) return null;
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  return [...new Set(out)];
}

/**
 * Drops literals that contain another literal of the set: a line containing `WARNING` contains
 * `WARN`, so `{WARN, WARNING}` searches as `{WARN}` and stays exact.
 */
export function minimal(set: readonly string[]): string[] {
  return set.filter((s, i) => !set.some((t, j) => j !== i && t.length < s.length && s.includes(t)));
}

/** Higher is better: long shortest literal, few alternatives. */
function score(set: readonly string[] | null): number {
  if (!set || set.length === 0) return -Infinity;
  const lits = minimal(set);
  const shortest = Math.min(...lits.map((l) => l.length));
  if (shortest === 0) return -Infinity;
  return shortest * 4 - lits.length;
}

function best(a: readonly string[] | null, b: readonly string[] | null): readonly string[] | null {
  return score(b) > score(a) ? b : a;
}

function classSet(items: readonly ClassItem[], negated: boolean): string[] | null {
  if (negated) return null;
  const out: string[] = [];
  for (const it of items) {
    if (it.t === 'esc' || it.hi - it.lo > MAX_SET || it.lo <= 10) return null;
    for (let c = it.lo; c <= it.hi; c++) out.push(utf8Bytes(c));
    if (out.length > MAX_SET) return null;
  }
  return out.length > 0 ? [...new Set(out)] : null;
}

function infoOf(n: Node): Info {
  switch (n.t) {
    case 'char': {
      if (n.c === 10) return OPAQUE;
      const s = [utf8Bytes(n.c)];
      return { exact: s, lits: s, equiv: true, nullable: false, constrained: false, single: s[0]! };
    }
    case 'class': {
      const s = classSet(n.items, n.negated);
      const single = s?.length === 1 ? s[0]! : null;
      return { exact: s, lits: s, equiv: s !== null, nullable: false, constrained: false, single };
    }
    case 'esc':
    case 'dot':
      return OPAQUE;
    case 'bol':
    case 'eol':
    case 'wordb':
    case 'look':
    case 'backref':
      return ZERO_WIDTH;
    case 'group':
      return infoOfAlt(n.body);
    case 'repeat': {
      const c = infoOf(n.node);
      if (n.min === 0) {
        const exact = c.exact && n.max === 1 ? [...new Set(['', ...c.exact])] : null;
        return { exact, lits: null, equiv: false, nullable: true, constrained: c.constrained, single: null };
      }
      let exact: string[] | null = null;
      if (c.exact && n.min === n.max) {
        exact = [''];
        for (let i = 0; i < n.min && exact; i++) exact = product(exact, c.exact);
      }
      return {
        exact,
        lits: c.lits,
        equiv: c.equiv && n.min === 1,
        nullable: c.nullable,
        constrained: c.constrained,
        single: c.single,
      };
    }
  }
}

function infoOfSeq(seq: Seq): Info {
  const infos = seq.map(infoOf);
  if (infos.length === 0) {
    return { exact: [''], lits: null, equiv: false, nullable: true, constrained: false, single: null };
  }
  // The longest single literal: consecutive elements that match exactly one string, or one
  // element's own single literal (`\bfail(ed|ure)` → `fail`).
  let single: string | null = null;
  let cur = '';
  for (const inf of infos) {
    if (inf.exact?.length === 1 && !inf.constrained) cur += inf.exact[0];
    else {
      if (cur.length > (single?.length ?? 0)) single = cur;
      cur = '';
      if (inf.single && inf.single.length > (single?.length ?? 0)) single = inf.single;
    }
  }
  if (cur.length > (single?.length ?? 0)) single = cur;
  let lits: readonly string[] | null = null;
  // Runs of consecutive exactly-known elements give longer literals than any element alone.
  let run: string[] | null = null;
  let runStart = 0;
  let equivRun: { lits: readonly string[]; start: number; end: number } | undefined;
  const closeRun = (end: number) => {
    if (run && run.every((s) => s.length > 0)) {
      if (score(run) > score(lits)) lits = run;
      if (!equivRun || score(run) > score(equivRun.lits)) equivRun = { lits: run, start: runStart, end };
    }
    run = null;
  };
  for (let i = 0; i < infos.length; i++) {
    const inf = infos[i]!;
    if (inf.exact && !inf.constrained) {
      if (run === null) {
        run = [...inf.exact];
        runStart = i;
      } else {
        const p = product(run, inf.exact);
        if (p === null) {
          closeRun(i);
          run = [...inf.exact];
          runStart = i;
        } else run = p;
      }
    } else {
      closeRun(i);
      lits = best(lits, inf.lits);
    }
  }
  closeRun(infos.length);
  let exact: string[] | null = [''];
  for (const inf of infos) exact = exact && inf.exact ? product(exact, inf.exact) : null;
  // Matching is the same as containing the run's literal when everything else can match empty
  // and asserts nothing (it then never prevents or needs anything around the literal).
  let equiv = false;
  const er = equivRun as { lits: readonly string[]; start: number; end: number } | undefined;
  if (er) {
    const rest = infos.filter((_, i) => i < er.start || i >= er.end);
    if (rest.every((r) => r.nullable && !r.constrained)) {
      equiv = true;
      lits = er.lits;
    }
  } else if (infos.length === 1) {
    equiv = infos[0]!.equiv;
  }
  return {
    exact,
    lits,
    equiv,
    nullable: infos.every((i) => i.nullable),
    constrained: infos.some((i) => i.constrained),
    single: single || null,
  };
}

export function infoOfAlt(alt: Alt): Info {
  const infos = alt.map(infoOfSeq);
  if (infos.length === 1) return infos[0]!;
  let exact: string[] | null = [];
  let lits: string[] | null = [];
  for (const inf of infos) {
    exact = exact && inf.exact ? [...exact, ...inf.exact] : null;
    lits = lits && inf.lits ? [...lits, ...inf.lits] : null;
  }
  if (exact) exact = [...new Set(exact)];
  if (lits) lits = [...new Set(lits)];
  if (exact && exact.length > MAX_SET) exact = null;
  if (lits && lits.length > MAX_SET) lits = null;
  const first = infos[0]!.single;
  return {
    exact,
    lits,
    equiv: lits !== null && infos.every((i) => i.equiv),
    nullable: infos.some((i) => i.nullable),
    constrained: infos.some((i) => i.constrained),
    single: first !== null && infos.every((i) => i.single === first) ? first : null,
  };
}
