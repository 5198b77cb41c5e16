// `npm run schema`: prints caretaker.schema.json for the built-in actions.
import { builtinRegistry } from '../actions/builtin.js';
import { configJsonSchema } from './json-schema.js';

const actions = (await builtinRegistry().load()).all();
process.stdout.write(`${JSON.stringify(configJsonSchema(actions), null, 2)}\n`);
