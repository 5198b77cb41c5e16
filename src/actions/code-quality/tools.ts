/**
 * The `tools:` entries: a preset name, a preset with overrides, or a tool of one's own. Presets run
 * the project's local binaries: every command gets the `node_modules/.bin` directories from the
 * checked directory up to the root first on its PATH (as `npm run` does), so `eslint` is the
 * project's eslint, without npx (whose `--no-install` still asks the registry for unknown names).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { FORMATS, type OutputFormat } from './issues.js';

export type Command = string | readonly string[];

interface Preset {
  readonly command: readonly string[];
  readonly fix?: readonly string[];
  readonly format: OutputFormat;
  /** How to get the tool, for the one line a missing tool gets. */
  readonly install: string;
}

export const PRESETS = {
  eslint: {
    command: ['eslint', '--format', 'json', '.'],
    fix: ['eslint', '--fix', '.'],
    format: 'eslint-json',
    install: 'npm install --save-dev eslint',
  },
  tsc: {
    command: ['tsc', '--noEmit', '--pretty', 'false'],
    format: 'tsc',
    install: 'npm install --save-dev typescript',
  },
  prettier: {
    command: ['prettier', '--check', '.'],
    fix: ['prettier', '--write', '.'],
    format: 'prettier-check',
    install: 'npm install --save-dev prettier',
  },
  ruff: {
    command: ['ruff', 'check', '--output-format', 'json', '.'],
    fix: ['ruff', 'check', '--fix', '.'],
    format: 'ruff-json',
    install: 'pip install ruff',
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]];

const command = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'expected a command line or [program, args…]',
  })
  .describe('A string runs through /bin/sh; a list runs the program directly.');

const toolObject = z
  .strictObject({
    preset: z.enum(PRESET_NAMES).optional().describe('Start from a preset; the keys given override it.'),
    name: z.string().min(1).optional().describe('Shown in results. @default the preset name'),
    command: command.optional().describe('The check; it must only read (it also runs in a dry run).'),
    fix_command: command.optional().describe('Fixes what it can, run with `fix: true`.'),
    format: z.enum(FORMATS).optional().describe('How to read the check output.'),
    output_file: z
      .string()
      .min(1)
      .optional()
      .describe('Read the report from this file (relative to cwd) instead of standard output, e.g. SARIF.'),
  })
  .superRefine((t, ctx) => {
    if (t.preset) return;
    for (const key of ['name', 'command', 'format'] as const)
      if (t[key] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `a tool without a preset needs ${key} (or preset: ${PRESET_NAMES.join('|')})`,
        });
  });

export const toolSchema = z.union([z.enum(PRESET_NAMES), toolObject], {
  error: `expected a preset (${PRESET_NAMES.join(', ')}) or { name, command, format, fix_command? }`,
});
export type ToolEntry = z.output<typeof toolSchema>;

export interface ToolSpec {
  readonly name: string;
  readonly command: Command;
  readonly fixCommand?: Command;
  readonly format: OutputFormat;
  readonly outputFile?: string;
  /** Set for presets: how to install the tool. */
  readonly install?: string;
}

export function resolveTool(entry: ToolEntry): ToolSpec {
  const t = typeof entry === 'string' ? { preset: entry } : entry;
  const p: Preset | undefined = t.preset ? PRESETS[t.preset] : undefined;
  return {
    name: t.name ?? t.preset!,
    command: t.command ?? p!.command,
    fixCommand: t.fix_command ?? p?.fix,
    format: t.format ?? p!.format,
    outputFile: t.output_file,
    install: p?.install,
  };
}

export function shown(c: Command): string {
  return typeof c === 'string' ? c : c.join(' ');
}

/** PATH with every `node_modules/.bin` from `cwd` up to the root in front, nearest first. */
export function pathWithLocalBins(cwd: string, path = process.env.PATH ?? ''): string {
  const bins: string[] = [];
  for (let d = resolve(cwd); ; d = dirname(d)) {
    const bin = join(d, 'node_modules', '.bin');
    if (existsSync(bin)) bins.push(bin);
    if (dirname(d) === d) break;
  }
  return [...bins, path].filter(Boolean).join(':');
}
