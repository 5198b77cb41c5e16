/**
 * Strict JSON with positions (jsonc-parser with comments and trailing commas refused): syntax
 * errors with line and column, duplicate keys reported, and the position of any key path for
 * schema errors.
 */
import {
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import {
  LineIndex,
  type DataPath,
  type FileProblem,
  type ParseOutcome,
  type Position,
} from './parsed-file.js';

const WORDING: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a key in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected : after the key',
  CommaExpected: 'expected , between items',
  CloseBraceExpected: 'expected } to close the object',
  CloseBracketExpected: 'expected ] to close the list',
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string (control characters must be escaped)',
};

function duplicates(
  node: Node | undefined,
  path: (string | number)[],
  out: { node: Node; path: string; first: Node }[],
) {
  if (!node) return;
  if (node.type === 'object') {
    const seen = new Map<string, Node>();
    for (const prop of node.children ?? []) {
      const keyNode = prop.children?.[0];
      const key = String(keyNode?.value);
      const first = seen.get(key);
      if (first && keyNode) out.push({ node: keyNode, path: [...path, key].join('.'), first });
      else if (keyNode) seen.set(key, keyNode);
      duplicates(prop.children?.[1], [...path, key], out);
    }
  } else if (node.type === 'array') {
    node.children?.forEach((c, i) => duplicates(c, [...path, i], out));
  }
}

export function parseJson(text: string): ParseOutcome {
  const index = new LineIndex(text);
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  // One mistake often yields several errors at the same offset; the first says it best.
  const firstAt = errors.filter((e, i) => errors.findIndex((f) => f.offset === e.offset) === i);
  const problems: FileProblem[] = firstAt.map((e) => {
    const code = printParseErrorCode(e.error);
    return { ...index.at(e.offset), path: '', message: `invalid JSON: ${WORDING[code] ?? code}` };
  });
  if (problems.length === 0 && !tree)
    problems.push({ line: 1, column: 1, path: '', message: 'invalid JSON: the file is empty' });
  if (problems.length === 0) {
    const dups: { node: Node; path: string; first: Node }[] = [];
    duplicates(tree, [], dups);
    for (const d of dups)
      problems.push({
        ...index.at(d.node.offset),
        path: d.path,
        message: `duplicate key (first on line ${index.at(d.first.offset).line}); JSON readers disagree on which one wins`,
      });
  }
  if (problems.length > 0) return { ok: false, problems };

  const root = tree!;
  const nearest = (path: DataPath): Node => {
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, [...path.slice(0, n)]);
      if (node) return node;
    }
    return root;
  };
  const locate = (path: DataPath): Position => index.at(nearest(path).offset);
  const locateKey = (path: DataPath, key: string): Position => {
    const value = findNodeAtLocation(root, [...path, key]);
    const keyNode = value?.parent?.type === 'property' ? value.parent.children?.[0] : undefined;
    return keyNode ? index.at(keyNode.offset) : locate(path);
  };
  return { ok: true, file: { format: 'json', data: getNodeValue(root) as unknown, locate, locateKey } };
}
