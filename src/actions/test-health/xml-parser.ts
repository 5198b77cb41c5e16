/**
 * fast-xml-parser through its bundled CommonJS build: one file, ~8 ms to load, where the ESM
 * build's many modules cost ~100 ms on every command that loads the config.
 */
import { createRequire } from 'node:module';
import type * as FastXmlParser from 'fast-xml-parser';

const require = createRequire(import.meta.url);
export const { XMLParser } = require('fast-xml-parser') as typeof FastXmlParser;
