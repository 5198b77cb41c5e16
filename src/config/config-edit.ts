/**
 * Edits of caretaker.yaml's text that keep everything else byte for byte: `create-task` adds a
 * task after the last one, `schedule-task` replaces one schedule's scalar. The yaml package's
 * Document API finds where (node ranges) and renders the new pieces; only that span of the text
 * changes, so comments, blank lines, quoting and flow collections elsewhere stay as they were
 * (a round trip through Document.toString() would respace comments and `[a]` lists). A file
 * whose shape gives no such span (no `tasks:` yet, a flow-style `tasks: {…}`) is rewritten from
 * the Document, which keeps its comments but may respace it.
 */
import {
  Document,
  isCollection,
  isMap,
  isNode,
  isScalar,
  parseDocument,
  Scalar,
  visit,
  type Node,
  type Pair,
  type ToStringOptions,
  type YAMLMap,
} from 'yaml';
import { didYouMean } from '../core/did-you-mean.js';
import { UsageError } from '../errors/usage-error.js';

export interface NewTaskSpec {
  readonly id: string;
  readonly action: string;
  readonly schedule: string;
  readonly description?: string;
  readonly category?: string;
  readonly priority?: string;
  readonly timeout?: string;
  /** The action's options (`with:`), from parseWith. */
  readonly with?: Readonly<Record<string, unknown>>;
}

const RENDER: ToStringOptions = { lineWidth: 0, flowCollectionPadding: false };

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `--with key=value` pairs as the `with:` map: each value read as YAML (`7` a number, `true` a
 * boolean, `[a, b]` a list; what YAML cannot read, such as `*.log`, stays text); a dotted key
 * (`keep.daily=7`) nests. UsageError for a pair without `=`, a bad key, or a key given twice.
 */
export function parseWith(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq);
    const parts = key.split('.');
    if (eq <= 0 || !parts.every((p) => KEY.test(p)))
      throw new UsageError(
        `--with "${pair}": expected key=value, the key letters, digits, "_" and "-" (dotted for a nested option, e.g. keep.daily=7)`,
      );
    let at = out;
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const seen = Object.hasOwn(at, part);
      if (last) {
        if (seen) throw new UsageError(`--with ${key}: given twice (or also as the parent of a dotted key)`);
        at[part] = yamlValue(pair.slice(eq + 1));
      } else {
        if (seen && (typeof at[part] !== 'object' || at[part] === null || Array.isArray(at[part])))
          throw new UsageError(`--with ${key}: ${parts.slice(0, i + 1).join('.')} is already given a value`);
        if (!seen) at[part] = {};
        at = at[part] as Record<string, unknown>;
      }
    }
  }
  return out;
}

function yamlValue(text: string): unknown {
  if (text.trim() === '') return text;
  const doc = parseDocument(text, { strict: true, uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return text;
  const node = doc.contents;
  // Only a scalar or a flow list/map (`[a, b]`, `{ daily: 7 }`) is read: `echo "hi: there"` is
  // not a map, and `echo hi # note` keeps its `#`.
  if (isScalar(node)) {
    if (typeof node.value !== 'string') return node.value;
    return node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? node.value : text;
  }
  if (!isCollection(node) || !node.flow) return text;
  try {
    return doc.toJS() as unknown;
  } catch {
    return text; // an alias of an anchor that does not exist (`[*.log]`): text
  }
}

function parsed(text: string): Document.Parsed {
  const doc = parseDocument(text, { uniqueKeys: false });
  // The loader has already said the file is valid; this is a guard, not the message a user sees.
  if (doc.errors.length > 0) throw new UsageError(`the file is not valid YAML: ${doc.errors[0]!.message}`);
  return doc;
}

function tasksMap(doc: Document.Parsed): YAMLMap | null {
  const node = doc.get('tasks', true);
  return isMap(node) ? node : null;
}

function taskIds(map: YAMLMap | null): string[] {
  return (map?.items ?? []).map((p) => String(isScalar(p.key) ? p.key.value : p.key));
}

function findTask(map: YAMLMap | null, id: string): Pair | undefined {
  return map?.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === id);
}

/** Where a node's value ends in the text (its range's second entry), if it is a node with a range. */
function valueEnd(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[1] : undefined;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

function columnOf(text: string, pos: number): number {
  return pos - lineStart(text, pos);
}

/** The position just past the line `pos` is on (after its newline), or the end of the text. */
function afterLine(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === '\n') return pos;
  const nl = text.indexOf('\n', pos);
  return nl < 0 ? text.length : nl + 1;
}

function indentLines(block: string, indent: number): string {
  const pad = ' '.repeat(indent);
  return block
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}

/** A task as the file writes them: the keys in a person's order, the schedule double-quoted. */
function taskNode(doc: Document, spec: NewTaskSpec): Node {
  const task: Record<string, unknown> = {};
  if (spec.description !== undefined) task.description = spec.description;
  task.action = spec.action;
  task.schedule = spec.schedule;
  if (spec.category !== undefined) task.category = spec.category;
  if (spec.priority !== undefined) task.priority = spec.priority;
  if (spec.timeout !== undefined) task.timeout = spec.timeout;
  if (spec.with && Object.keys(spec.with).length > 0) task.with = spec.with;
  const node = doc.createNode(task) as YAMLMap;
  const schedule = node.get('schedule', true);
  if (isScalar(schedule)) schedule.type = Scalar.QUOTE_DOUBLE;
  // Lists of plain values on one line, as the file `caretaker init` writes has them: ["logs/*.log"].
  visit(node, {
    Seq(_key, seq) {
      if (seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  return node;
}

/** The text with the new task added after the last task. UsageError when the id is taken. */
export function addTask(text: string, spec: NewTaskSpec): string {
  const doc = parsed(text);
  const map = tasksMap(doc);
  const existing = findTask(map, spec.id);
  if (existing) {
    const line = isScalar(existing.key) && existing.key.range ? lineOf(text, existing.key.range[0]) : 0;
    throw new UsageError(
      `task "${spec.id}" already exists${line ? ` (line ${line})` : ''}; schedule-task ${spec.id} --cron EXPR changes its schedule`,
    );
  }
  const last = map?.items.at(-1);
  const end = valueEnd(last?.value) ?? valueEnd(last?.key);
  const firstKey = map?.items[0]?.key;
  if (!map || map.flow || end === undefined || !isScalar(firstKey) || !firstKey.range) {
    // No block map of tasks to append to: set it through the Document (comments are kept).
    if (map) map.set(spec.id, taskNode(doc, spec));
    else doc.set('tasks', doc.createNode({ [spec.id]: taskNode(doc, spec) }));
    return doc.toString(RENDER);
  }
  const indent = columnOf(text, firstKey.range[0]);
  const firstBody = map.items[0]?.value;
  const bodyIndent =
    isMap(firstBody) && !firstBody.flow && isScalar(firstBody.items[0]?.key) && firstBody.items[0].key.range
      ? columnOf(text, firstBody.items[0].key.range[0]) - indent
      : 2;
  const piece = new Document({ [spec.id]: taskNode(doc, spec) });
  const rendered = indentLines(piece.toString({ ...RENDER, indent: Math.max(1, bodyIndent) }), indent);
  const at = afterLine(text, end);
  const before = text.slice(0, at);
  const sep = before.endsWith('\n') ? '\n' : '\n\n';
  return `${before}${sep}${rendered}${text.slice(at)}`;
}

function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** A scalar's new text in the quoting the old one had (plain only when YAML reads it back the same). */
function renderScalar(old: Scalar, value: string): string {
  if (old.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (old.type === Scalar.PLAIN) {
    const plain = new Document(value).toString(RENDER).trimEnd();
    if (!/^["']/.test(plain) && !plain.includes('\n')) return plain;
  }
  return JSON.stringify(value);
}

/**
 * The text with task `id`'s schedule set to `expr` (added after its `action:` line when it has
 * none). Returns the old schedule too. UsageError for a task the file does not have.
 */
export function setSchedule(
  text: string,
  id: string,
  expr: string,
): { readonly text: string; readonly previous: string | null } {
  const doc = parsed(text);
  const map = tasksMap(doc);
  const pair = findTask(map, id);
  if (!pair) throw new UsageError(`unknown task "${id}"${didYouMean(id, taskIds(map))}`);
  const task = pair.value;
  if (!isMap(task)) throw new UsageError(`task "${id}" is not a map of settings; edit it by hand`);
  const old = task.get('schedule', true);
  if (isScalar(old) && old.range && (old.type === Scalar.PLAIN || old.type?.startsWith('QUOTE'))) {
    const [start, end] = old.range;
    const previous = old.value === null ? null : String(old.value);
    return { text: `${text.slice(0, start)}${renderScalar(old, expr)}${text.slice(end)}`, previous };
  }
  const action = task.items.find((p) => isScalar(p.key) && p.key.value === 'action');
  const actionKey = action?.key;
  const actionEnd = valueEnd(action?.value);
  if (!task.flow && old === undefined && isScalar(actionKey) && actionKey.range && actionEnd !== undefined) {
    const at = afterLine(text, actionEnd);
    const line = `${' '.repeat(columnOf(text, actionKey.range[0]))}schedule: ${JSON.stringify(expr)}\n`;
    const before = text.slice(0, at);
    return { text: `${before}${before.endsWith('\n') ? '' : '\n'}${line}${text.slice(at)}`, previous: null };
  }
  const close = valueEnd(task);
  if (task.flow && old === undefined && close !== undefined && text[close - 1] === '}') {
    // `{ action: shell, with: {…} }` → `{ action: shell, with: {…}, schedule: "…" }`
    let at = close - 1;
    while (at > 0 && (text[at - 1] === ' ' || text[at - 1] === '\t')) at--;
    const entry = `${task.items.length > 0 ? ', ' : ''}schedule: ${JSON.stringify(expr)}`;
    return { text: `${text.slice(0, at)}${entry}${text.slice(at)}`, previous: null };
  }
  // A schedule written as a block scalar, or a task of a shape without a place to add one.
  const node = doc.createNode(expr) as Scalar;
  node.type = Scalar.QUOTE_DOUBLE;
  task.set('schedule', node);
  return {
    text: doc.toString(RENDER),
    previous: isScalar(old) && old.value !== null ? String(old.value) : null,
  };
}
