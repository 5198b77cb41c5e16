/**
 * The folder rule of docs/architecture.md holds because `npm run check` runs dependency-cruiser
 * with .dependency-cruiser.cjs. These plant imports in a small tree and show the rule catches
 * each kind of wrong one — and passes the right ones — so a loosened rule cannot go unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

function tree(files: Record<string, string>): string {
  const dir = tempDir('ct-layers-');
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function check(dir: string): { code: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const base = {
  'src/core/size.ts': 'export const KB = 1024;\n',
  'src/store/types.ts': "import { KB } from '../core/size.js';\nexport const PAGE = 4 * KB;\n",
  'src/engine/engine.ts': "import { PAGE } from '../store/types.js';\nexport const engine = PAGE;\n",
  'src/caretaker.ts': "import { engine } from './engine/engine.js';\nexport const caretaker = engine;\n",
  'src/cli/main.ts': "import { caretaker } from '../caretaker.js';\nexport const main = caretaker;\n",
};

describe('the layer rule (npm run layers)', () => {
  it('passes imports that point downward and faces that use the facade', () => {
    const r = check(tree(base));
    expect(r.out).toMatch(/no dependency violations found/);
    expect(r.code).toBe(0);
  });

  it('fails an upward import: core importing the engine', () => {
    const r = check(
      tree({ ...base, 'src/core/size.ts': "import '../engine/engine.js';\nexport const KB = 1024;\n" }),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error layer-core: src\/core\/size\.ts → src\/engine\/engine\.ts/);
  });

  it('fails a sideways import within a rank: safety importing notify', () => {
    const r = check(
      tree({
        ...base,
        'src/notify/send.ts': 'export const send = 1;\n',
        'src/safety/guard.ts': "import { send } from '../notify/send.js';\nexport const guard = send;\n",
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error layer-safety: src\/safety\/guard\.ts → src\/notify\/send\.ts/);
  });

  it('fails a face that reaches past the facade into the store', () => {
    const r = check(
      tree({
        ...base,
        'src/cli/history.ts': "import { PAGE } from '../store/types.js';\nexport const h = PAGE;\n",
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error sealed-facade: src\/cli\/history\.ts → src\/store\/types\.ts/);
  });

  it('fails a file cycle inside one folder', () => {
    const r = check(
      tree({
        ...base,
        'src/core/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
        'src/core/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error no-circular/);
  });
});
