import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/schema/config-files/parse-config-file.js';
import type { ConfigFormat } from '../../src/schema/config-files/parsed-file.js';
import { missingKeys } from '../../src/actions/config-files/required-keys.js';

function problems(text: string, format: ConfigFormat): string[] {
  const r = parseConfigText(text, format);
  if (r.ok) throw new Error(`expected ${format} problems, parsed ${JSON.stringify(r.file.data)}`);
  return r.problems.map((p) => `${p.line}:${p.column}${p.path ? ` ${p.path}` : ''} ${p.message}`);
}

function data(text: string, format: ConfigFormat): unknown {
  const r = parseConfigText(text, format);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.file.data;
}

describe('malformed config files: exact line and column', () => {
  it('YAML', () => {
    expect(problems('a: 1\na: 2\n', 'yaml')).toEqual(['2:1 invalid YAML: Map keys must be unique']);
    expect(problems('a:\n\t- tab\n', 'yaml')).toEqual([
      '2:1 invalid YAML: Tabs are not allowed as indentation',
    ]);
    expect(problems('a: 1\nb:\n  c: 2\n   d: 3\n', 'yaml')[0]).toBe(
      '3:6 invalid YAML: Nested mappings are not allowed in compact mappings',
    );
    // In the second of several documents, the line counts from the top of the file.
    expect(problems('---\na: 1\n---\nb: [1,\nc: 2\n', 'yaml')[0]).toMatch(/^5:1 invalid YAML: Flow sequence/);
  });

  it('JSON (strict: no comments, no trailing commas, no duplicate keys)', () => {
    expect(problems('{\n  "a": 1,\n  "b": ,\n  "c": 2\n}\n', 'json')).toEqual([
      '3:8 invalid JSON: expected a value',
    ]);
    expect(problems('{"a": 1,}', 'json')[0]).toBe('1:9 invalid JSON: expected a key in double quotes');
    expect(problems('{\n  // note\n  "a": 1\n}', 'json')).toEqual([
      '2:3 invalid JSON: comments are not allowed in JSON',
    ]);
    expect(problems('{\n  "a": {\n    "x": 1,\n    "x": 2\n  }\n}', 'json')).toEqual([
      '4:5 a.x duplicate key (first on line 3); JSON readers disagree on which one wins',
    ]);
    expect(problems('', 'json')).toEqual(['1:1 invalid JSON: expected a value']);
    expect(problems('[1, 2]\n{}', 'json')).toEqual([
      '2:1 invalid JSON: expected the end of the file after the top-level value',
    ]);
  });

  it('TOML', () => {
    expect(problems('a = 1\nb = \n', 'toml')).toEqual(['2:5 invalid TOML: invalid value']);
    expect(problems('a = 1\na = 2\n', 'toml')).toEqual([
      '2:1 invalid TOML: trying to redefine an already defined table or value',
    ]);
    expect(problems('[server]\nport = 80\n[server]\n', 'toml')[0]).toBe(
      '3:2 invalid TOML: trying to redefine an already defined table or value',
    );
  });

  it('.env', () => {
    expect(problems('KEY=ok\nBAD LINE\n', 'env')).toEqual(['2:5 expected = after BAD, as in BAD=value']);
    expect(problems('A="abc\nB=1\n', 'env')).toEqual(['1:3 the double quote opened here is never closed']);
    expect(problems('OK=1\n1X=2\n', 'env')).toEqual([
      '2:1 expected a variable name (letters, digits, _) at the start of the line, as in KEY=value',
    ]);
    expect(problems('A="x" y\n', 'env')).toEqual([
      '1:7 unexpected text after the closing quote; quote the whole value or put a # before a comment',
    ]);
    expect(problems('A=1\nexport A=2\n', 'env')).toEqual([
      '2:8 A is set twice (first on line 1); tools disagree on which one wins',
    ]);
  });
});

describe('well-formed config files', () => {
  it('reads every format into the same plain data', () => {
    // YAML 1.2 has no date type: a date stays the string it was written as.
    expect(data('port: 80\nwhen: 2026-01-01\n', 'yaml')).toEqual({ port: 80, when: '2026-01-01' });
    expect(data('port = 80\nwhen = 2026-01-01T00:00:00Z\n', 'toml')).toEqual({
      port: 80,
      when: '2026-01-01T00:00:00.000Z',
    });
    expect(data('{"port": 80}', 'json')).toEqual({ port: 80 });
    expect(data('export A=1 # comment\nB="two\\nlines" # x\nC=#fff\nD=\'$NOT_EXPANDED\'\n', 'env')).toEqual({
      A: '1',
      B: 'two\nlines',
      C: '#fff',
      D: '$NOT_EXPANDED',
    });
    expect(data('---\na: 1\n---\nb: 2\n', 'yaml')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('locates key paths in every format', () => {
    const at = (text: string, format: ConfigFormat, path: (string | number)[]) => {
      const r = parseConfigText(text, format);
      if (!r.ok) throw new Error('parse failed');
      const p = r.file.locate(path);
      return `${p.line}:${p.column}`;
    };
    expect(at('a:\n  b:\n    - x\n    - y\n', 'yaml', ['a', 'b', 1])).toBe('4:7');
    expect(at('{\n  "a": {\n    "b": [1, 2]\n  }\n}', 'json', ['a', 'b', 1])).toBe('3:14');
    expect(at('top = 1\n[a]\nx = 1\nb = 2\n[c]\nb = 3\n', 'toml', ['c', 'b'])).toBe('6:1');
    expect(at('top = 1\n[a]\nx = 1\nb = 2\n[c]\nb = 3\n', 'toml', ['a', 'b'])).toBe('4:1');
    expect(at('[a.b]\nc = 1\n', 'toml', ['a', 'b', 'missing'])).toBe('1:1');
    expect(at('A=1\n  B=2\n', 'env', ['B'])).toBe('2:3');
  });
});

describe('required key paths', () => {
  const materials = {
    materials: {
      copper: { density: 8.96, melting_point: 1085, thermal_conductivity: 401 },
      tin: { density: 7.31 },
    },
  };

  it('expands * over every key of a map', () => {
    expect(missingKeys(materials, 'materials.*.melting_point').map((m) => m.path.join('.'))).toEqual([
      'materials.tin.melting_point',
    ]);
    expect(missingKeys(materials, 'materials.*.density')).toEqual([]);
  });

  it('expands * over list items and reports an empty collection as missing', () => {
    const servers = { servers: [{ host: 'a', port: 1 }, { host: 'b' }] };
    expect(missingKeys(servers, 'servers.*.port').map((m) => m.path.join('.'))).toEqual(['servers.1.port']);
    expect(missingKeys({ servers: [] }, 'servers.*.port').map((m) => m.path.join('.'))).toEqual([
      'servers.*',
    ]);
    expect(missingKeys({}, 'database.url')).toMatchObject([{ path: ['database', 'url'], parent: [] }]);
  });
});
