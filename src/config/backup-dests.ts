/** Where a configuration's backups live: the `dest` of every backup (and verify-backups) task. */
import { resolve } from 'node:path';
import type { BackupDest } from '../backup/catalog.js';
import { UsageError } from '../errors/usage-error.js';
import type { Config } from './types.js';

export interface DestChoice {
  /** A directory given by hand (wins over the configuration). */
  readonly dest?: string;
  /** Only the archives of this backup task. */
  readonly task?: string;
}

export function backupDests(choice: DestChoice, config: Config | undefined): BackupDest[] {
  if (choice.dest) return [{ task: choice.task, dest: resolve(choice.dest) }];
  if (!config) throw new UsageError('no caretaker.yaml here: pass --dest DIR, -c CONFIG, or an archive path');
  const out: BackupDest[] = [];
  let tasks = 0;
  for (const t of config.tasks) {
    if (t.action !== 'backup' && t.action !== 'verify-backups') continue;
    const o = t.options as { dest?: string; task?: string };
    const task = t.action === 'backup' ? t.id : o.task;
    if (choice.task !== undefined && task !== undefined && task !== choice.task) continue;
    tasks++;
    // A backup without a dest keeps no local archives (only its copies).
    if (o.dest !== undefined) out.push({ task: choice.task ?? task, dest: resolve(config.dir, o.dest) });
  }
  if (tasks === 0)
    throw new UsageError(
      choice.task
        ? `no backup task "${choice.task}" in ${config.file}`
        : `no backup tasks in ${config.file}; pass --dest DIR`,
    );
  return out;
}
