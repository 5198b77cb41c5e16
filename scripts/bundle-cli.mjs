// Bundles the CLI (src/cli/main.ts) after tsc has built dist/: the entry replaces tsc's
// dist/cli/main.js (the bin, what the tests and the daemon's re-spawn run), its chunks go in
// dist/cli/chunks/. Why: a cold `caretaker validate` loaded ~230 ES
// modules plus yaml's ~70 CommonJS files, and reading, compiling and linking each one was
// most of its start-up (issue 17). The bundle keeps the lazy edges lazy (ESM splitting: each
// `await import()` becomes its own chunk), so `--version` still loads only the entry.
//
// What stays as tsc builds it: the library (dist/index.js and everything under it), worker
// files loaded by path (scan-logs' scan-worker.js), and every npm package not listed in BUNDLED
// (native or optional ones, and the large ones loaded only by commands that run for long).
//
// Usage: node scripts/bundle-cli.mjs  (npm run build runs it after tsc)
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'cli');
/** Every chunk but the entry: the one directory `import.meta.url` is rewritten against. */
const CHUNKS = join(OUT, 'chunks');
const ENTRY = join(OUT, 'main.js');

/**
 * npm packages compiled into the bundle: pure JavaScript, loaded by the short commands, and many
 * files each (zod ~95, yaml ~70). The others stay external and load from node_modules as before,
 * so what a trace of loaded modules says about them (test/daemon/idle-footprint) still holds.
 */
const BUNDLED = new Set(['zod', 'yaml', 'croner', 'picomatch', 'tinyglobby', 'fdir', '@scure/base']);

const packageOf = (spec) =>
  (spec.startsWith('@') ? spec.split('/').slice(0, 2) : spec.split('/', 1)).join('/');

/** Bare imports of packages outside BUNDLED are left to Node's resolution at run time. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      return BUNDLED.has(packageOf(args.path)) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * Every chunk lands in dist/cli/chunks/, but the code inside one came from many files whose
 * `import.meta.url` meant their own place in dist/ (`../package.json`, `./scan-worker.js`,
 * `../main.js`, createRequire's base). Each source file's `import.meta.url` becomes the URL its
 * tsc-built twin has, computed from the chunk's own URL, so those paths resolve as before.
 */
const usesMetaUrl = new Set();
const metaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'ts' };
      const twin = join(DIST, relative(SRC, args.path)).replace(/\.ts$/, '.js');
      usesMetaUrl.add(relative(ROOT, args.path).split('\\').join('/'));
      const rel = relative(CHUNKS, twin).split('\\').join('/');
      const contents = source.replaceAll(
        'import.meta.url',
        `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
      );
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * zod's `locales` namespace holds every translation of its messages (about 340 KB of the 850 KB
 * it bundles to); caretaker's messages are English and set by our own error maps, and nothing
 * reads `z.locales`. Only English stays in the bundle (the library build keeps zod whole).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: "export { default as en } from './en.js';\n",
      loader: 'js',
    }));
  },
};

await rm(CHUNKS, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: join(SRC, 'cli', 'main.ts') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // The maps name the sources by path (file:line in a --debug stack); their text is not shipped.
  sourcesContent: false,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  // Class and function names appear in errors and `--debug` output.
  keepNames: true,
  legalComments: 'none',
  // Bundled CommonJS packages (yaml, picomatch) call require() for node's built-ins.
  banner: {
    js: "import { createRequire as __ctRequire } from 'node:module'; const require = __ctRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [externals, metaUrl, zodEnglishOnly],
  metafile: true,
  absWorkingDir: ROOT,
});

// The rewrite above is right only for code in dist/cli/chunks/: code esbuild keeps in the entry
// (what only main.ts imports) sits one directory up. main.ts imports everything lazily, so nothing
// of that kind is there; should that change, the build says so instead of shipping wrong paths.
const outputs = Object.entries(result.metafile.outputs).map(([out, o]) => [join(ROOT, out), o]);
for (const [out, { inputs }] of outputs)
  if (out === ENTRY)
    for (const input of Object.keys(inputs))
      if (usesMetaUrl.has(input))
        throw new Error(
          `${input} uses import.meta.url but landed in ${relative(ROOT, ENTRY)}: import it lazily`,
        );

// Which source files each output file holds, as the paths tsc builds them to (`cli/main.js`) or
// as they sit in node_modules: a trace of the files a process loads (test/support/traced-cli.ts)
// reads chunks back into the modules they stand for.
const sources = {};
for (const [out, { inputs }] of outputs) {
  if (!out.endsWith('.js')) continue;
  sources[relative(OUT, out)] = Object.keys(inputs).map((input) =>
    input.startsWith('src/') ? input.slice('src/'.length).replace(/\.ts$/, '.js') : input,
  );
}
await writeFile(join(CHUNKS, 'sources.json'), `${JSON.stringify(sources, null, 1)}\n`);
