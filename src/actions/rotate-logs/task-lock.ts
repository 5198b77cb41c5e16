/**
 * One rotation of a task at a time, even across processes (a CLI run next to a daemon's): a lock
 * file with the holder's pid in the task's state dir, taken over when that process is gone.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK = 'rotation.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class RotationBusyError extends Error {
  override name = 'RotationBusyError';
}

/** Takes the lock or throws RotationBusyError; returns the release function. */
export async function lockRotation(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
        throw new RotationBusyError(`another rotation of this task is running (pid ${holder})`);
      await rm(path, { force: true }); // its holder died (a crash): the journal tells what to finish
    }
  }
  throw new RotationBusyError(`cannot take ${path}`);
}
