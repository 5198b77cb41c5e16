// Lists every module a process loads (ES modules through a loader hook, CommonJS from the require
// cache), grouped by npm package or caretaker folder, printed to stderr at exit.
// Usage: node --import ./bench/support/trace-modules.mjs dist/cli/main.js status
//   CARETAKER_TRACE_MODULES=list   also print every file
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const esm = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => esm.add(url));
port1.unref();
const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) {
  port.postMessage(url);
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
  data: { port: port2 },
  transferList: [port2],
});

function unitOf(path) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `npm ${pkg[1]}`;
  const own = /\/dist\/(.+)\.js$/.exec(path);
  if (own) return `caretaker ${own[1].split('/').slice(0, -1).join('/') || '.'}/`;
  if (path.startsWith('node:')) return 'node builtins';
  return path;
}

process.on('exit', () => {
  const require = createRequire(import.meta.url);
  const cjs = Object.keys(require('node:module')._cache);
  const files = [...new Set([...[...esm].map((u) => u.replace(/^file:\/\//, '')), ...cjs])].filter(
    (f) => !f.startsWith('data:') && !f.endsWith('trace-modules.mjs'),
  );
  const units = new Map();
  for (const f of files) units.set(unitOf(f), (units.get(unitOf(f)) ?? 0) + 1);
  const lines = [...units].sort((a, b) => b[1] - a[1]).map(([u, n]) => `${String(n).padStart(5)}  ${u}`);
  process.stderr.write(`\n${files.length} modules loaded:\n${lines.join('\n')}\n`);
  if (process.env.CARETAKER_TRACE_MODULES === 'list') process.stderr.write(`${files.sort().join('\n')}\n`);
});
