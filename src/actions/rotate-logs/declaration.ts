/** What the registry knows of `rotate-logs` without loading its code (see ../declaration.ts). */
import { rotateModifies, rotateTargets } from './declared-paths.js';
import { declareAction } from '../declaration.js';
import { rotateLogsSchema } from './schema.js';

export const rotateLogsDeclaration = declareAction({
  name: 'rotate-logs',
  description:
    'Rotate, compress and expire logs with logrotate’s directives, crash-safe and without losing lines',
  schema: rotateLogsSchema,
  category: 'log_management',
  modifies: rotateModifies,
  targets: rotateTargets,
});
