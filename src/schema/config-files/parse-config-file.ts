/** Parses a config file of any supported format into data with positions, or exact problems. */
import { parseDotenv } from './dotenv.js';
import { parseJson } from './json-file.js';
import type { ConfigFormat, ParseOutcome } from './parsed-file.js';
import { parseToml } from './toml-file.js';
import { parseYaml } from './yaml-file.js';

export function parseConfigText(text: string, format: ConfigFormat): ParseOutcome {
  // A byte-order mark is legal at the start of a file and confuses every parser's column 1.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  switch (format) {
    case 'yaml':
      return parseYaml(body);
    case 'json':
      return parseJson(body);
    case 'toml':
      return parseToml(body);
    case 'env':
      return parseDotenv(body);
  }
}
