/**
 * Cyclomatic complexity of TS/JS functions, read with the TypeScript compiler's parser (no type
 * checking, no regexes). A function counts 1 plus one per branch point: if, ?:, case (not
 * default), &&, ||, ??, their assignment forms (&&=, ||=, ??=), for, for-in, for-of, while,
 * do-while and catch — the points ESLint's `complexity` rule counts, except default parameter
 * values. A nested function is counted on its own and adds nothing to the function around it.
 */
import { readFile } from 'node:fs/promises';
import { extname, relative, sep } from 'node:path';
import ts from 'typescript';
import { glob } from 'tinyglobby';

export interface FunctionComplexity {
  /** `name`, `Class.method`, or `<anonymous>`. */
  readonly name: string;
  /** 1-based line of the function's start. */
  readonly line: number;
  readonly complexity: number;
}

const KINDS: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.cts': ts.ScriptKind.TS,
  '.tsx': ts.ScriptKind.TSX,
  '.js': ts.ScriptKind.JS,
  '.mjs': ts.ScriptKind.JS,
  '.cjs': ts.ScriptKind.JS,
  '.jsx': ts.ScriptKind.JSX,
};

const BRANCH_OPERATORS = new Set([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);

function isBranch(node: ts.Node): boolean {
  switch (node.kind) {
    case ts.SyntaxKind.IfStatement:
    case ts.SyntaxKind.ConditionalExpression:
    case ts.SyntaxKind.CaseClause:
    case ts.SyntaxKind.ForStatement:
    case ts.SyntaxKind.ForInStatement:
    case ts.SyntaxKind.ForOfStatement:
    case ts.SyntaxKind.WhileStatement:
    case ts.SyntaxKind.DoStatement:
    case ts.SyntaxKind.CatchClause:
      return true;
    case ts.SyntaxKind.BinaryExpression:
      return BRANCH_OPERATORS.has((node as ts.BinaryExpression).operatorToken.kind);
    default:
      return false;
  }
}

function propertyName(
  name: ts.PropertyName | ts.BindingName | undefined,
  sf: ts.SourceFile,
): string | undefined {
  if (!name) return undefined;
  if (
    ts.isIdentifier(name) ||
    ts.isPrivateIdentifier(name) ||
    ts.isStringLiteral(name) ||
    ts.isNumericLiteral(name)
  )
    return name.text;
  return name.getText(sf);
}

function functionName(fn: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  const own = fn.name ? propertyName(fn.name, sf) : undefined;
  const parent = fn.parent;
  if (ts.isClassLike(parent)) {
    const cls = parent.name?.text ?? '<anonymous class>';
    return `${cls}.${ts.isConstructorDeclaration(fn) ? 'constructor' : (own ?? '<anonymous>')}`;
  }
  if (own) return own;
  // const f = () => …, { f: function () {} }, x.f = () => …
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return propertyName(parent.name, sf) ?? '<anonymous>';
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return parent.left.getText(sf);
  return '<anonymous>';
}

/** Every function in one file's source, in source order. */
export function functionComplexities(fileName: string, text: string): FunctionComplexity[] {
  const kind = KINDS[extname(fileName).toLowerCase()] ?? ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const out: { fn: FunctionComplexity; start: number }[] = [];

  const measure = (fn: ts.FunctionLikeDeclaration) => {
    let complexity = 1;
    const walk = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && node !== fn) {
        visitFunction(node as ts.FunctionLikeDeclaration);
        return;
      }
      if (isBranch(node)) complexity += 1;
      ts.forEachChild(node, walk);
    };
    ts.forEachChild(fn, walk);
    const start = fn.getStart(sf);
    out.push({
      fn: { name: functionName(fn, sf), line: sf.getLineAndCharacterOfPosition(start).line + 1, complexity },
      start,
    });
  };
  const visitFunction = (node: ts.FunctionLikeDeclaration) => {
    if (node.body)
      measure(node); // overload signatures and abstract methods have no body
    else ts.forEachChild(node, visit);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node)) visitFunction(node as ts.FunctionLikeDeclaration);
    else ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.start - b.start).map((o) => o.fn);
}

export const DEFAULT_COMPLEXITY_PATHS = ['**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'];
export const DEFAULT_COMPLEXITY_IGNORE = [
  '**/node_modules/**',
  '**/dist/**',
  '**/build/**',
  '**/coverage/**',
  '**/*.d.ts',
  '**/*.min.js',
];

export interface ComplexReport {
  readonly files: number;
  readonly functions: number;
  /** Functions over the limit, the most complex first. */
  readonly over: readonly (FunctionComplexity & { file: string })[];
}

/** Scans `cwd` for source files and lists the functions whose complexity is over `limit`. */
export async function findComplexFunctions(
  cwd: string,
  limit: number,
  paths: readonly string[] = DEFAULT_COMPLEXITY_PATHS,
  ignore: readonly string[] = DEFAULT_COMPLEXITY_IGNORE,
  signal?: AbortSignal,
): Promise<ComplexReport> {
  const files = (await glob([...paths], { cwd, absolute: true, ignore: [...ignore], dot: false })).sort();
  let functions = 0;
  const over: (FunctionComplexity & { file: string })[] = [];
  for (const file of files) {
    signal?.throwIfAborted();
    const list = functionComplexities(file, await readFile(file, 'utf8'));
    functions += list.length;
    const rel = relative(cwd, file).split(sep).join('/');
    for (const f of list) if (f.complexity > limit) over.push({ ...f, file: rel });
  }
  over.sort((a, b) => b.complexity - a.complexity || a.file.localeCompare(b.file) || a.line - b.line);
  return { files: files.length, functions, over };
}
