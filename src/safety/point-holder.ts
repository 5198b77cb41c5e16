/**
 * Who held the rollback lock last, so that a process may keep its point index in memory between
 * holds (the daemon taking a point per run) and still never use a stale one. Each RollbackPoints
 * instance has its own token; at the start of a hold it reads `rollback/last-holder`: its own
 * token means no other instance (in this process or another) held the lock since, so what it
 * kept in memory is what is on disk. Any other content (or none) means the store may have
 * changed: the index is loaded afresh, and the token is written before anything is changed, so
 * that a holder that then fails or dies half-way still tells the others to reload.
 *
 * Read and written only under the lock; not fsync'ed (it only has to be seen by the other
 * processes, and a crash of the machine ends every process that kept an index in memory).
 *
 * Something other than caretaker changing the store (a blob deleted by hand, the index file
 * overwritten) writes no token; `storeFingerprint` catches that: the stat fields of the index
 * file, the blob directory and each of its 256 prefix directories (a blob added or deleted
 * moves its directory's mtime and ctime) — one listing and ~257 lstat calls, ~1 ms, instead of
 * parsing the index and listing every prefix directory. A change in the same timestamp tick as
 * the hold's own last write (a few ms) is not seen; a restore still verifies every blob it uses.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class LastHolder {
  readonly #token = `${process.pid}-${randomUUID()}`;

  constructor(readonly file: string) {}

  /** Under the lock: true when this instance held it last. Claims it otherwise. */
  async heldLastByMe(): Promise<boolean> {
    let seen: string | undefined;
    try {
      seen = await readFile(this.file, 'utf8');
    } catch {
      // none yet (or unreadable): as if someone else held it
    }
    if (seen === this.#token) return true;
    await writeFile(this.file, this.#token, { mode: 0o600 });
    return false;
  }
}

function statKey(path: string): string {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '-';
}

/** What the index file and the blob directories look like now (compared, never parsed). */
export function storeFingerprint(indexFile: string, blobDir: string): string {
  const parts = [statKey(indexFile), statKey(blobDir)];
  let names: string[] = [];
  try {
    names = readdirSync(blobDir).sort();
  } catch {
    // no blobs yet
  }
  for (const n of names) parts.push(n, statKey(join(blobDir, n)));
  return parts.join('|');
}
