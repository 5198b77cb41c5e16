/** Fingerprints of a directory tree (content, mode, links), to prove a restore is exact. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Relative path → "file <sha256> <mode>", "dir <mode>" or "link <target>"; `.git` is left out. */
export function fingerprint(root: string, skip: readonly string[] = ['.git']): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (skip.includes(name)) continue;
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${mode}`;
        walk(p);
      } else out[rel] = `file ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${mode}`;
    }
  };
  walk(root);
  return out;
}
