/** Cyclomatic complexity read with the TypeScript parser, on code whose counts are known by hand. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findComplexFunctions, functionComplexities } from '../../src/actions/code-quality/complexity.js';
import { tempDir } from '../support/tmp.js';

const SOURCE = `
export function straight(a: number): number {
  return a + 1;
}

export function branches(a: number, b?: string): string {
  if (a > 1 && b) return b;            // if, &&            -> +2
  for (const x of [1, 2]) {            // for-of            -> +1
    while (a-- > 0) a ??= x;           // while, ??=        -> +2
  }
  try {
    return a > 0 ? 'pos' : b ?? 'neg'; // ?:, ??            -> +2
  } catch {                            // catch             -> +1
    return 'err';
  }
}

export class Shape {
  constructor(private readonly kind: string) {}
  area(w: number): number {
    switch (this.kind) {
      case 'square': return w * w;     // case              -> +1
      case 'circle': return 3 * w * w; // case              -> +1
      default: return 0;               // default: nothing
    }
  }
}

export const outer = (xs: number[]) =>
  xs.map((x) => (x > 0 || x < -5 ? x : 0)).length > 0; // outer has no branches of its own
// "if (x) && y ||" in a string or comment counts for nothing: if (a) { while (b) {} }
const s = "if (a) { while (b) {} } && ||";
`;

describe('cyclomatic complexity', () => {
  it('counts each branch point once per function, nested functions on their own', () => {
    expect(functionComplexities('shapes.ts', SOURCE)).toEqual([
      { name: 'straight', line: 2, complexity: 1 },
      { name: 'branches', line: 6, complexity: 9 },
      { name: 'Shape.constructor', line: 19, complexity: 1 },
      { name: 'Shape.area', line: 20, complexity: 3 },
      { name: 'outer', line: 29, complexity: 1 },
      { name: '<anonymous>', line: 30, complexity: 3 },
    ]);
  });

  it('reads JSX and plain JavaScript, and skips bodiless overloads', () => {
    const tsx = `export function View({ on }: { on: boolean }) {\n  return on ? <b>yes</b> : <i>no</i>;\n}\n`;
    expect(functionComplexities('view.tsx', tsx)).toEqual([{ name: 'View', line: 1, complexity: 2 }]);
    const js = `module.exports.run = function (a) {\n  do { a-- } while (a > 0 && a !== 3);\n};\nobj.handler = (e) => e || null;\n`;
    expect(functionComplexities('run.cjs', js)).toEqual([
      { name: 'module.exports.run', line: 1, complexity: 3 },
      { name: 'obj.handler', line: 4, complexity: 2 },
    ]);
    const overloads = `export function f(a: string): string;\nexport function f(a: number): number;\nexport function f(a: unknown) { return a ?? 0; }\n`;
    expect(functionComplexities('o.ts', overloads)).toEqual([{ name: 'f', line: 3, complexity: 2 }]);
  });

  it('scans a tree, leaving out node_modules, dist and declaration files', async () => {
    const dir = tempDir();
    for (const d of ['src', 'node_modules/pkg', 'dist']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'src/shapes.ts'), SOURCE);
    writeFileSync(join(dir, 'src/types.d.ts'), 'export declare function g(a: number): number;\n');
    const complex = 'export function h(a) { if (a) { if (a > 1) { if (a > 2) return 1; } } return 0; }\n';
    writeFileSync(join(dir, 'node_modules/pkg/index.js'), complex);
    writeFileSync(join(dir, 'dist/out.js'), complex);
    const r = await findComplexFunctions(dir, 2);
    expect(r.files).toBe(1);
    expect(r.functions).toBe(6);
    expect(r.over.map((f) => [f.file, f.name, f.complexity])).toEqual([
      ['src/shapes.ts', 'branches', 9],
      ['src/shapes.ts', 'Shape.area', 3], // ties: by file, then line
      ['src/shapes.ts', '<anonymous>', 3],
    ]);
  });
});
