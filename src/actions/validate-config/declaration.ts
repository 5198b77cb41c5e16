/** What the registry knows of `validate-config` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const validateConfigDeclaration = declareAction({
  name: 'validate-config',
  description:
    'Check YAML, JSON, TOML and .env files: syntax, JSON Schema, required keys and env vars, drift',
  category: 'config_cleanup',
  schema,
  // It only reads them, but they are what a task of it looks after: with rollback: true every run
  // keeps a point of the files, so a config that later breaks can be put back as it was.
  modifies: (o, resolvePath) => o.files.map((f) => resolvePath(typeof f === 'string' ? f : f.path)),
});
