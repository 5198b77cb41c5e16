/**
 * The dashboard's static files, read at start-up: our stylesheet and script from the package's
 * `assets/dashboard/` (shipped beside dist/, not compiled: the same path from src/ and dist/),
 * and uPlot from its npm package as published (node_modules, resolved like an import). Nothing
 * is bundled or built; each answer carries a content hash as its ETag.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const OWN = new URL('../../../assets/dashboard/', import.meta.url);

function load(path: string, type: string): Asset {
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

let cache: ReadonlyMap<string, Asset> | undefined;

/** The files by their URL name (`/assets/NAME`). */
export function dashboardAssets(): ReadonlyMap<string, Asset> {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const uplot = (file: string) => require.resolve(`uplot/dist/${file}`);
  cache = new Map([
    ['dashboard.css', load(fileURLToPath(new URL('dashboard.css', OWN)), 'text/css; charset=utf-8')],
    ['dashboard.js', load(fileURLToPath(new URL('dashboard.js', OWN)), 'text/javascript; charset=utf-8')],
    ['uPlot.iife.min.js', load(uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8')],
    ['uPlot.min.css', load(uplot('uPlot.min.css'), 'text/css; charset=utf-8')],
  ]);
  return cache;
}
