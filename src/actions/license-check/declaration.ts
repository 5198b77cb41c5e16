/** What the registry knows of `license-check` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const licenseCheckDeclaration = declareAction({
  name: 'license-check',
  description: 'Licences of installed dependencies (npm, pip) against allow and deny lists of SPDX ids',
  category: 'security',
  schema,
  modifies: () => [], // reads only
});
