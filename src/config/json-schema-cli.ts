// `npm run schema`: prints caretaker.schema.json for the built-in actions.
import { builtinActions } from '../actions/builtin.js';
import { configJsonSchema } from './json-schema.js';

process.stdout.write(`${JSON.stringify(configJsonSchema(builtinActions), null, 2)}\n`);
