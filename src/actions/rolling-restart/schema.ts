/** The `with:` options of `rolling-restart`. */
import { z } from 'zod';
import { duration, envMap, size } from '../../schema/values.js';

const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
});

const instance = z.strictObject({
  name: z.string().min(1).describe('Shown in the plan, the output and alerts.'),
  stop: command.describe('Stops the instance; must exit 0 once it is down.'),
  start: command.describe('Starts the instance; may return at once (a daemon) — health decides.'),
  health_url: z
    .url({ error: 'expected an http:// or https:// URL', protocol: /^https?$/ })
    .optional()
    .describe('Healthy when it answers 2xx.'),
  health_command: command.optional().describe('Healthy when it exits 0.'),
  pid_file: z.string().min(1).optional().describe('The running process, for only_if.rss_over.'),
  settle: duration({ allowZero: true }).optional().describe('Overrides the top-level settle.'),
  health_timeout: duration().optional().describe('Overrides the top-level health_timeout.'),
});

export const schema = z
  .strictObject({
    instances: z.array(instance).min(1).describe('In rollout order.'),
    settle: duration({ allowZero: true })
      .optional()
      .describe('Wait after an instance is healthy, before the next. @default 10s'),
    health_timeout: duration()
      .optional()
      .describe('Longest wait for an instance to become healthy. @default 60s'),
    health_interval: duration().optional().describe('Between two health probes. @default 1s'),
    command_timeout: duration().optional().describe('Longest a stop or start command may run. @default 2m'),
    only_if: z
      .strictObject({
        rss_over: size().describe('Recycle only instances whose process uses more memory than this.'),
      })
      .optional(),
    cwd: z
      .string()
      .optional()
      .describe('Working directory of the commands. @default the config file’s directory'),
    env: envMap().optional().describe('Extra environment for the commands.'),
  })
  .superRefine((o, ctx) => {
    const names = new Set<string>();
    o.instances.forEach((inst, i) => {
      if ((inst.health_url === undefined) === (inst.health_command === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['instances', i],
          message: `instance ${inst.name} needs exactly one of health_url and health_command`,
        });
      }
      if (o.only_if && inst.pid_file === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['instances', i],
          message: `instance ${inst.name} needs pid_file: only_if.rss_over measures its process`,
        });
      }
      if (names.has(inst.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['instances', i, 'name'],
          message: `instance name ${inst.name} is used twice`,
        });
      }
      names.add(inst.name);
    });
  });
