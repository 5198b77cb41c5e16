import { describe, expect, it } from 'vitest';
import { datasetFromRecords, toCsv, toJsonRecords, toMarkdownTable } from '../../src/core/dataset.js';

describe('datasets', () => {
  const d = datasetFromRecords('x', [
    { id: 1, note: 'plain', stats: { hit_rate: 0.5 } },
    { id: 2, note: 'has, a comma and "quotes"\nand a line', tags: ['a', 'b'] },
  ]);

  it('flattens nested objects into dotted columns in first-seen order', () => {
    expect(d.columns).toEqual(['id', 'note', 'stats.hit_rate', 'tags']);
    expect(d.rows[1]).toEqual([2, 'has, a comma and "quotes"\nand a line', null, '["a","b"]']);
  });

  it('writes RFC 4180 CSV: CRLF, quoted fields with doubled quotes', () => {
    expect(toCsv(d)).toBe(
      'id,note,stats.hit_rate,tags\r\n1,plain,0.5,\r\n2,"has, a comma and ""quotes""\nand a line",,"[""a"",""b""]"\r\n',
    );
  });

  it('escapes pipes and line breaks in Markdown and right-aligns numbers', () => {
    const md = toMarkdownTable({ columns: ['n', 'text'], rows: [[1, 'a|b\nc']] });
    expect(md).toBe('| n | text |\n| ---: | --- |\n| 1 | a\\|b<br>c |');
  });

  it('round-trips to JSON records', () => {
    expect(JSON.parse(toJsonRecords(d))[0]).toEqual({
      id: 1,
      note: 'plain',
      'stats.hit_rate': 0.5,
      tags: null,
    });
  });
});
