/** What the registry knows of `scan-logs` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { scanLogsSchema } from './options.js';

export const scanLogsDeclaration = declareAction({
  name: 'scan-logs',
  description: 'Incremental log monitoring: counts per pattern, samples, alerts over thresholds',
  category: 'log_management',
  schema: scanLogsSchema,
  modifies: () => [], // reads only (its offsets live in the task's state dir)
});
