/**
 * `validate-config`: YAML, JSON, TOML and .env files parsed with exact line and column for every
 * problem, checked against a JSON Schema and `required` key paths; `required_env` reports which
 * variables are set (and how long their values are, never the values); `baseline` records each
 * file's checksum and keys and reports later drift key by key, secrets masked.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import type { z } from 'zod';
import { expandPaths } from '../safety/expand-paths.js';
import { sha256File } from '../safety/blob-store.js';
import { compareWithBaseline } from './config-files/baseline-compare.js';
import { driftLines } from '../schema/config-files/config-drift.js';
import type { SchemaViolation } from './config-files/json-schema-check.js';
import { parseConfigText } from '../schema/config-files/parse-config-file.js';
import {
  CONFIG_FORMATS,
  formatOf,
  joinPath,
  type ConfigFormat,
  type FileReport,
  type FileProblem,
  type ParsedConfig,
} from '../schema/config-files/parsed-file.js';
import { missingKeys } from './config-files/required-keys.js';
import { defineAction, type ActionContext } from './types.js';
import { validateConfigDeclaration } from './validate-config/declaration.js';
import type { schema } from './validate-config/schema.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

type Options = z.output<typeof schema>;

interface Target {
  readonly file: string;
  readonly format?: ConfigFormat;
  readonly schema?: string;
  readonly required: readonly string[];
}

async function targets(ctx: ActionContext, o: Options, problems: FileReport[]): Promise<Target[]> {
  const out = new Map<string, Target>();
  for (const spec of o.files) {
    const s = typeof spec === 'string' ? { path: spec } : spec;
    const abs = ctx.resolvePath(s.path);
    // A plain path stays in the list even when missing: it is reported as "no such file".
    const matches = await expandPaths([abs], { baseDir: ctx.baseDir });
    if (isDynamicPattern(s.path) && matches.length === 0) {
      problems.push({
        file: abs,
        format: null,
        valid: false,
        problems: [{ line: 0, column: 0, path: '', message: 'no file matches this pattern' }],
      });
    }
    for (const file of matches) {
      out.set(file, {
        file,
        format: ('format' in s ? s.format : undefined) ?? o.format,
        schema: ('schema' in s ? s.schema : undefined) ?? o.schema,
        required: [...(o.required ?? []), ...(('required' in s ? s.required : undefined) ?? [])],
      });
    }
  }
  return [...out.values()];
}

type Validator = (data: unknown) => SchemaViolation[];

async function loadSchema(
  ctx: ActionContext,
  path: string,
  cache: Map<string, Validator | string>,
): Promise<Validator | string> {
  const abs = ctx.resolvePath(path);
  const cached = cache.get(abs);
  if (cached) return cached;
  let result: Validator | string;
  // ajv is loaded only when a schema is used: every command that loads the config loads this module.
  const { compileSchema, SchemaLoadError, violations } = await import('./config-files/json-schema-check.js');
  try {
    const text = await readFile(abs, 'utf8');
    const parsed = parseConfigText(text, formatOf(abs) === 'yaml' ? 'yaml' : 'json');
    if (!parsed.ok) {
      const p = parsed.problems[0]!;
      result = `schema ${abs}:${p.line}:${p.column}: ${p.message}`;
    } else {
      const compiled = compileSchema(parsed.file.data, abs);
      result = (data) => violations(compiled, data);
    }
  } catch (err) {
    result =
      err instanceof SchemaLoadError
        ? err.message
        : `schema ${abs} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  cache.set(abs, result);
  return result;
}

function checkContent(
  parsed: ParsedConfig,
  t: Target,
  validator: Validator | string | undefined,
): FileProblem[] {
  const out: FileProblem[] = [];
  if (typeof validator === 'string') out.push({ line: 0, column: 0, path: '', message: validator });
  else if (validator) {
    for (const v of validator(parsed.data)) {
      const parent = v.key === undefined ? v.path : v.path.slice(0, -1);
      const pos =
        v.key !== undefined && v.message.startsWith('is not allowed')
          ? parsed.locateKey(parent, v.key)
          : parsed.locate(parent);
      out.push({ ...pos, path: joinPath(v.path) || '(top level)', message: v.message });
    }
  }
  for (const pattern of t.required) {
    for (const m of missingKeys(parsed.data, pattern)) {
      out.push({
        ...parsed.locate(m.parent),
        path: joinPath(m.path),
        message: `is required (required: ${pattern})`,
      });
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

export const validateConfigAction = defineAction({
  ...validateConfigDeclaration,
  async run(ctx, o) {
    const reports: FileReport[] = [];
    const list = await targets(ctx, o, reports);
    const schemas = new Map<string, Validator | string>();
    const parsedFiles = new Map<string, { parsed: ParsedConfig; sha256: string }>();
    for (const t of list) {
      ctx.signal.throwIfAborted();
      const format = t.format ?? formatOf(t.file);
      const fail = (message: string) =>
        reports.push({
          file: t.file,
          format: format ?? null,
          valid: false,
          problems: [{ line: 0, column: 0, path: '', message }],
        });
      if (!format) {
        fail(`cannot tell the format from the name; set format: ${CONFIG_FORMATS.join(' | ')}`);
        continue;
      }
      let text: string;
      try {
        const st = await stat(t.file);
        if (!st.isFile())
          throw Object.assign(new Error('not a file'), {
            code: st.isDirectory() ? 'EISDIR' : 'not a regular file',
          });
        if (st.size > MAX_FILE_BYTES)
          throw Object.assign(new Error('too big'), {
            code: `larger than ${MAX_FILE_BYTES / 1024 / 1024}MB`,
          });
        text = await readFile(t.file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        fail(code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`);
        continue;
      }
      const outcome = parseConfigText(text, format);
      if (!outcome.ok) {
        reports.push({ file: t.file, format, valid: false, problems: outcome.problems });
        continue;
      }
      const validator = t.schema ? await loadSchema(ctx, t.schema, schemas) : undefined;
      const problems = checkContent(outcome.file, t, validator);
      const sha256 = await sha256File(t.file);
      parsedFiles.set(t.file, { parsed: outcome.file, sha256 });
      reports.push({ file: t.file, format, valid: problems.length === 0, problems, sha256 });
    }

    const env = (o.required_env ?? []).map((name) => {
      const value = process.env[name];
      return { name, present: value !== undefined, length: value?.length ?? 0 };
    });
    const warnings: string[] = [];
    for (const e of env)
      if (e.present && e.length === 0) warnings.push(`environment variable ${e.name} is set but empty`);

    const baseline =
      o.baseline === undefined || o.baseline === false ? null : o.baseline === true ? {} : o.baseline;
    let baselineNote: string | null = null;
    let drifted = 0;
    if (baseline) {
      const compared = await compareWithBaseline({
        file: join(ctx.taskStateDir, 'baseline.json'),
        reports,
        parsed: parsedFiles,
        now: ctx.clock.now(),
        update: baseline.update === true,
        dryRun: ctx.dryRun,
      });
      reports.splice(0, reports.length, ...compared.reports);
      drifted = compared.drifted;
      const n = compared.recorded;
      baselineNote =
        n > 0 ? `baseline ${ctx.dryRun ? 'would be ' : ''}recorded for ${n} file${n === 1 ? '' : 's'}` : null;
    }

    // Output: every problem as file:line:col, every drift line under its file.
    const show = (f: string) => {
      const rel = relative(ctx.baseDir, f);
      return rel.startsWith('..') ? f : rel;
    };
    const problems: string[] = [];
    for (const r of reports) {
      for (const p of r.problems)
        problems.push(
          `${show(r.file)}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
        );
    }
    for (const e of env) if (!e.present) problems.push(`environment variable ${e.name} is not set`);
    const driftWarnings: string[] = [];
    for (const r of reports) {
      if (r.baseline === 'deleted') driftWarnings.push(`${show(r.file)}: deleted since the baseline`);
      if (!r.drift) continue;
      const lines = driftLines(r.drift);
      driftWarnings.push(
        `${show(r.file)}: drift from the baseline: ${lines.length} key${lines.length === 1 ? '' : 's'} (${lines.slice(0, 5).join('; ')}${lines.length > 5 ? '; …' : ''})`,
      );
      ctx.output(`${show(r.file)} drift:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    }
    for (const line of problems) ctx.output(`${line}\n`);
    const onDriftFail = baseline?.on_drift === 'fail' && drifted > 0;
    if (onDriftFail) problems.push(...driftWarnings);
    else warnings.push(...driftWarnings);

    const fileCount = reports.filter((r) => r.format !== null || r.problems.length > 0).length;
    const validCount = reports.filter((r) => r.valid).length;
    const parts = [`${validCount} of ${fileCount} file${fileCount === 1 ? '' : 's'} valid`];
    if (env.length > 0)
      parts.push(`${env.filter((e) => e.present).length} of ${env.length} environment variables set`);
    if (baseline)
      parts.push(
        drifted > 0 ? `${drifted} file${drifted === 1 ? '' : 's'} drifted from the baseline` : 'no drift',
      );
    if (baselineNote) parts.push(baselineNote);
    const summary =
      problems.length === 0
        ? parts.join('; ')
        : `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
    return {
      ok: problems.length === 0,
      summary,
      changed: false,
      issuesFound: problems.length + (onDriftFail ? 0 : driftWarnings.length),
      warnings: warnings.length > 0 ? warnings : undefined,
      plan: ctx.dryRun
        ? [`check ${fileCount} file${fileCount === 1 ? '' : 's'}${baselineNote ? `; ${baselineNote}` : ''}`]
        : undefined,
      details: { files: reports, env, problems },
    };
  },
});
