/**
 * `module`: a custom executor. Calls an exported async function of a JS or TS module with the
 * task's `config` and a context; it returns `{ success, output, filesModified, issuesFixed, … }`.
 */
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ActionContext, ActionResult, Finding } from './types.js';
import { defineAction } from './types.js';
import { moduleDeclaration } from './module/declaration.js';

/** What a custom executor may return; every field is optional. */
export interface ModuleOutcome {
  success?: boolean;
  summary?: string;
  output?: string;
  changed?: boolean;
  filesModified?: number;
  issuesFound?: number;
  issuesFixed?: number;
  bytesFreed?: number;
  warnings?: string[];
  details?: Record<string, unknown>;
  /** Problems at places in files: CI annotations with `run-task --format github`. */
  findings?: Finding[];
}

export type ModuleFunction = (
  config: unknown,
  ctx: ActionContext,
) => Promise<ModuleOutcome | void> | ModuleOutcome | void;

async function importModule(file: string): Promise<Record<string, unknown>> {
  // The mtime in the URL makes an edited module load fresh after a reload, while repeated runs of
  // an unchanged one reuse the cached instance.
  const version = statSync(file).mtimeMs;
  const url = `${pathToFileURL(file).href}?v=${version}`;
  if (/\.[mc]?ts$/.test(file)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

export const moduleAction = defineAction({
  ...moduleDeclaration,
  async run(ctx, o): Promise<ActionResult> {
    const file = ctx.resolvePath(o.path);
    const name = o.export ?? 'default';
    if (ctx.dryRun && (o.dry_run ?? 'skip') === 'skip') {
      return {
        ok: true,
        summary: `would call ${name}() of ${o.path}`,
        changed: false,
        plan: [`call ${name}() of ${file}`],
      };
    }
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return {
        ok: false,
        summary: `cannot load ${o.path}: ${e.code === 'ENOENT' ? 'no such file' : e.message.split('\n')[0]}`,
      };
    }
    // A .ts file outside a "type": "module" package loads as CommonJS: its exports sit one level down.
    const inner = mod.default;
    if (typeof mod[name] !== 'function' && inner && typeof inner === 'object') {
      mod = inner as Record<string, unknown>;
    }
    const fn = mod[name];
    if (typeof fn !== 'function') {
      const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
      return {
        ok: false,
        summary: `${o.path} has no exported function "${name}"${exported.length ? `; it exports ${exported.join(', ')}` : ''}`,
      };
    }
    const out = ((await (fn as ModuleFunction)(o.config, ctx)) ?? {}) as ModuleOutcome;
    if (out.output) ctx.output(out.output);
    const ok = out.success ?? true;
    return {
      ok,
      summary: out.summary ?? `${name}() ${ok ? 'succeeded' : 'reported failure'}`,
      changed: out.changed ?? (out.filesModified ?? 0) > 0,
      warnings: out.warnings,
      filesModified: out.filesModified,
      issuesFound: out.issuesFound,
      issuesFixed: out.issuesFixed,
      bytesFreed: out.bytesFreed,
      details: out.details,
      findings: out.findings,
    };
  },
});
