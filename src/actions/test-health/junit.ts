/**
 * JUnit XML → test cases. Handles the dialects seen in practice: a `<testsuites>` or a bare
 * `<testsuite>` root, nested suites (node's test runner nests `describe` blocks, and puts top-level
 * tests straight under `<testsuites>`), `<failure>`/`<error>`/`<skipped>` as elements (or node's
 * `failure="…"` attribute), and `time` in seconds.
 */
import { XMLParser } from './xml-parser.js';

export type TestStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface TestCase {
  /** Stable identity across runs: file or classname, the suite path and the name, joined by ` > `. */
  readonly id: string;
  readonly name: string;
  readonly suites: readonly string[];
  readonly classname?: string;
  readonly file?: string;
  readonly status: TestStatus;
  /** Milliseconds, when the report gives a time. */
  readonly timeMs?: number;
  /** First line of the failure or error message. */
  readonly message?: string;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => name === 'testsuite' || name === 'testcase',
});

function attr(node: Node, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function firstLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return (line ?? '').slice(0, 300);
}

/** The message of a `<failure>`/`<error>` element: its `message` attribute, else its text. */
function messageOf(el: unknown): string | undefined {
  const one = Array.isArray(el) ? (el[0] as unknown) : el;
  if (typeof one === 'string') return firstLine(one) || undefined;
  if (one && typeof one === 'object') {
    const n = one as Node;
    const m = attr(n, 'message') ?? (typeof n['#text'] === 'string' ? firstLine(n['#text']) : '');
    return m || undefined;
  }
  return undefined;
}

function secondsToMs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000 * 1000) / 1000 : undefined;
}

export function testId(parts: {
  file?: string;
  classname?: string;
  suites: readonly string[];
  name: string;
}): string {
  const all = [parts.file ?? parts.classname, ...parts.suites, parts.name].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  // vitest and jest name the suite after the file and set classname to it too: say it once.
  const deduped = all.filter((p, i) => i === 0 || p !== all[i - 1]);
  return deduped.join(' > ');
}

function caseOf(tc: Node, suites: readonly string[], file: string | undefined): TestCase {
  const name = attr(tc, 'name') ?? '(unnamed)';
  const classname = attr(tc, 'classname');
  const f = attr(tc, 'file') ?? file;
  let status: TestStatus = 'passed';
  let message: string | undefined;
  if ('failure' in tc || attr(tc, 'failure') !== undefined) {
    status = 'failed';
    message = messageOf(tc.failure) ?? attr(tc, 'failure');
  } else if ('error' in tc) {
    status = 'error';
    message = messageOf(tc.error);
  } else if ('skipped' in tc) status = 'skipped';
  const timeMs = secondsToMs(attr(tc, 'time'));
  return {
    id: testId({ file: f, classname, suites, name }),
    name,
    suites,
    ...(classname !== undefined ? { classname } : {}),
    ...(f !== undefined ? { file: f } : {}),
    status,
    ...(timeMs !== undefined ? { timeMs } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

function walk(node: Node, suites: readonly string[], file: string | undefined, out: TestCase[]): void {
  for (const tc of (node.testcase as Node[] | undefined) ?? []) out.push(caseOf(tc, suites, file));
  for (const s of (node.testsuite as Node[] | undefined) ?? []) {
    const name = attr(s, 'name');
    walk(s, name !== undefined ? [...suites, name] : suites, attr(s, 'file') ?? file, out);
  }
}

export type JunitParse = { ok: true; cases: TestCase[] } | { ok: false; reason: string };

/** Parses one JUnit XML document. */
export function parseJunit(xml: string): JunitParse {
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    return { ok: false, reason: `not well-formed XML: ${(err as Error).message.split('\n')[0]}` };
  }
  const cases: TestCase[] = [];
  if (doc.testsuites && typeof doc.testsuites === 'object')
    walk(doc.testsuites as Node, [], undefined, cases);
  else if (Array.isArray(doc.testsuite)) walk(doc, [], undefined, cases);
  else if (doc.testsuites === '') return { ok: true, cases };
  else return { ok: false, reason: 'no <testsuites> or <testsuite> root: not a JUnit report' };
  return { ok: true, cases };
}
