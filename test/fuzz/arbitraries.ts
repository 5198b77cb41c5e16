/** fast-check arbitraries shared by the fuzz tests. */
import fc from 'fast-check';
import type { Mutation } from '../support/fuzz.js';

/** Pieces that mean something to YAML, crontab and logrotate parsers, to splice into a file. */
const TOKENS = [
  ': ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  '*a',
  '&a ',
  '<<: ',
  '!!binary ',
  '"',
  "'",
  '\n',
  '\t',
  '\0',
  '%',
  '\\',
  '#',
  '__proto__',
  'constructor',
  '@reboot ',
  '@daily ',
  'SHELL=',
  '* * * * * ',
  'root ',
  'include /dev/zero\n',
  'postrotate\n',
  'endscript\n',
  '~',
  '${HOME}',
  '9'.repeat(400),
  'x'.repeat(2000),
];

const text = fc.oneof(
  fc.constantFrom(...TOKENS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(255) }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), text }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.nat(200) }),
  fc.record({ kind: fc.constant('duplicate-line' as const), pos: fc.nat(), len: fc.nat() }),
);

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 6 });

/** Random text, from nothing to a few hundred characters, some of it the parsers' own words. */
export const randomText = fc.array(text, { maxLength: 30 }).map((parts) => parts.join(''));
