/**
 * create-task ID --action A --schedule S [...] and schedule-task ID --cron S: edit caretaker.yaml
 * in place (comments and formatting kept, checked before it is written, written atomically),
 * then reload the daemon running on it, so that the change is in force when the command returns.
 */
import {
  createTaskInFile,
  loadedStamp,
  locateState,
  scheduleTaskInFile,
  type EditOutcome,
} from '../../caretaker-tools.js';
import { UsageError } from '../../errors/usage-error.js';
import { findDaemon } from '../../server/client.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { auditCliChange } from './access.js';

interface Reloaded {
  readonly reloaded: boolean;
  readonly pid: number | null;
  readonly error: string | null;
  /** The daemon had not loaded earlier edits of the file: this reload applied them too. */
  readonly alsoEarlierChanges: boolean;
}

/** Reloads the daemon of this configuration, if one runs. */
async function reloadDaemon(file: string, stampBefore: boolean | null): Promise<Reloaded> {
  const location = locateState(file);
  const daemon = await findDaemon(location.stateDir);
  if (!daemon) return { reloaded: false, pid: null, error: null, alsoEarlierChanges: false };
  try {
    await daemon.call('POST', '/v1/reload');
    return { reloaded: true, pid: daemon.info.pid, error: null, alsoEarlierChanges: stampBefore === false };
  } catch (err) {
    return {
      reloaded: false,
      pid: daemon.info.pid,
      error: (err as Error).message,
      alsoEarlierChanges: false,
    };
  }
}

function report(what: string, out: EditOutcome, r: Reloaded, json: boolean | undefined, io: Io): number {
  if (json) {
    printJson(io, { ...out, daemon: r });
    return r.error ? 1 : 0;
  }
  io.out(what);
  if (r.error) {
    io.err(`the daemon (pid ${r.pid}) did not reload: ${r.error}; caretaker reload tries again`);
    return 1;
  }
  io.out(
    r.reloaded
      ? `the daemon (pid ${r.pid}) reloaded the configuration: the change is in force`
      : 'no daemon is running on this configuration: the change takes effect when it starts',
  );
  if (r.alsoEarlierChanges)
    io.err('note: the file had changed since the daemon loaded it; the reload applied those changes too');
  return 0;
}

/** Was the daemon's loaded configuration the file as it was before this edit? (null: unknown) */
function loadedSame(file: string): boolean | null {
  const location = locateState(file);
  return loadedStamp(location.file, location.stateDir)?.same ?? null;
}

function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value.trim() === '')
    throw new UsageError(`${command}: ${flag} is required (see caretaker ${command} --help)`);
  return value;
}

export async function createTaskCommand(
  id: string,
  opts: GlobalOptions & {
    action?: string;
    schedule?: string;
    description?: string;
    category?: string;
    priority?: string;
    timeout?: string;
    with?: string[];
  },
  io: Io,
): Promise<number> {
  const file = configPath(opts);
  const action = required(opts.action, '--action NAME', 'create-task');
  const schedule = required(opts.schedule, '--schedule EXPR', 'create-task');
  const stamp = loadedSame(file);
  const out = await createTaskInFile(file, {
    id,
    action,
    schedule,
    description: opts.description,
    category: opts.category,
    priority: opts.priority,
    timeout: opts.timeout,
    with: opts.with,
  });
  await auditCliChange(
    opts,
    { action: 'create-task', target: out.task, detail: `${action}, schedule "${out.schedule}"` },
    (line) => io.err(line),
  );
  const r = await reloadDaemon(file, stamp);
  return report(
    `added task ${out.task} (${action}, schedule "${out.schedule}") to ${file}`,
    out,
    r,
    opts.json,
    io,
  );
}

export async function scheduleTaskCommand(
  id: string,
  opts: GlobalOptions & { cron?: string },
  io: Io,
): Promise<number> {
  const file = configPath(opts);
  const expr = required(opts.cron, '--cron EXPR', 'schedule-task');
  const stamp = loadedSame(file);
  const out = await scheduleTaskInFile(file, id, expr);
  await auditCliChange(
    opts,
    { action: 'schedule-task', target: out.task, detail: `"${out.previous ?? ''}" -> "${out.schedule}"` },
    (line) => io.err(line),
  );
  const r = await reloadDaemon(file, stamp);
  const was = out.previous === null ? 'it had none' : `was "${out.previous}"`;
  return report(
    `schedule of ${out.task} set to "${out.schedule}" (${was}) in ${file}`,
    out,
    r,
    opts.json,
    io,
  );
}
