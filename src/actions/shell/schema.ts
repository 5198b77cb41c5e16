/** The `with:` options of `shell`. */
import { z } from 'zod';
import { envMap, stringList } from '../../schema/values.js';

export const schema = z.strictObject({
  command: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
      error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...] (run directly)',
    })
    .describe('A command line run by /bin/sh -c, or [program, args...] run without a shell.'),
  cwd: z
    .string()
    .optional()
    .describe('Working directory, relative to the config file. @default its directory'),
  env: envMap().optional().describe('Extra environment variables.'),
  inherit_env: z.boolean().optional().describe("Pass caretaker's own environment on. @default true"),
  success_codes: z
    .array(z.number().int().min(0).max(255))
    .min(1)
    .optional()
    .describe('Exit codes that count as success. @default [0]'),
  warning_codes: z
    .array(z.number().int().min(0).max(255))
    .optional()
    .describe('Exit codes that count as success with a warning. @default []'),
  stdin: z.string().optional().describe("Text written to the command's standard input."),
  paths: stringList('a path').optional().describe('Files this command may modify (for rollback points).'),
});
