/** What the registry knows of `test-health` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const testHealthDeclaration = declareAction({
  name: 'test-health',
  description: 'Run the tests; failures, slowest tests, flaky tests across runs, coverage vs threshold',
  category: 'test_maintenance',
  schema,
  modifies: () => undefined, // a test command may write anywhere: name the paths in rollback:
});
