import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureDebianPackages } from './support/debian.js';

export default function setup(): void {
  if (!existsSync(resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  }
  ensureDebianPackages();
}
