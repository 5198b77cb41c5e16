/** What the registry knows of `prune-redis` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const pruneRedisDeclaration = declareAction({
  name: 'prune-redis',
  description: 'Drop stale Redis keys by pattern, idle time, expiry and type (SCAN + UNLINK, never KEYS)',
  schema,
  category: 'cache',
  modifies: () => [], // Redis keys, not files
});
