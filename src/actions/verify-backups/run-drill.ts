/** The restore drill of `verify-backups`, for a local archive or one fetched from a copy. */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { z } from 'zod';
import { drill, type DrillResult } from '../../backup/drill.js';
import { toolRunner } from '../../backup/tool-runner.js';
import { runInProcessGroup } from '../../os/process-group.js';
import type { ActionContext } from '../types.js';
import type { schema } from './schema.js';

export type Options = z.output<typeof schema>;

/** Where drills (and fetched copies) go: `drill_dir`, else the system temp dir. */
export function drillParent(ctx: ActionContext, o: Options): string {
  const parentDir = o.drill_dir ? ctx.resolvePath(o.drill_dir) : tmpdir();
  mkdirSync(parentDir, { recursive: true });
  return parentDir;
}

/** Restores `archivePath` into a temp dir, checks what came back, runs drill_command there. */
export async function runDrill(ctx: ActionContext, o: Options, archivePath: string): Promise<DrillResult> {
  const parentDir = drillParent(ctx, o);
  // pg_restore --list prints the whole table of contents: kept out of the output (its errors
  // still reach the summary).
  const runTool = toolRunner({ ...ctx, cwd: ctx.baseDir }, []);
  const check = o.drill_command
    ? async (dir: string) => {
        const r = await runInProcessGroup({
          command: o.drill_command!,
          cwd: dir,
          env: { ...process.env, CARETAKER_RESTORE_DIR: dir, CARETAKER_ARCHIVE: archivePath },
          signal: ctx.signal,
          killGraceMs: ctx.killGraceMs,
          clock: ctx.clock,
          onOutput: (t) => ctx.output(t),
        });
        if (r.exitCode === 0) return undefined;
        return `drill_command ${r.spawnError ?? (r.exitCode === null ? 'was killed' : `exited with ${r.exitCode}`)}`;
      }
    : undefined;
  return drill(archivePath, { parentDir, check, runTool, signal: ctx.signal });
}
