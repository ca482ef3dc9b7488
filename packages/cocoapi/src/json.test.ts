// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { DatasetError } from '@solo-ts/core';
import { jsonSyntaxProblem, lineColumn, parseJsonText } from './json.js';

const error = (text: string): DatasetError => {
  try {
    parseJsonText(text, 'f.json', 'a COCO instances file');
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected an error');
};

describe('parseJsonText (Python json rules)', () => {
  it('parses plain JSON and skips a byte-order mark', () => {
    expect(parseJsonText('{"a": [1, "x"]}', 'f.json')).toEqual({ a: [1, 'x'] });
    expect(parseJsonText('\ufeff[true, null]', 'f.json')).toEqual([true, null]);
  });

  it('accepts NaN, Infinity and -Infinity outside strings, as json.dump writes them', () => {
    expect(parseJsonText('{"b": [1, NaN, Infinity, -Infinity], "s": "NaN Infinity"}', 'f.json')).toEqual({ b: [1, NaN, Infinity, -Infinity], s: 'NaN Infinity' });
  });

  it('syntax errors name the file, line and column, what was found and what was expected', () => {
    const e = error('{"images": [1,\n  2,, 3]}');
    expect(e.code).toBe('DATASET');
    expect(e.location).toEqual({ file: 'f.json', line: 2, column: 5 });
    expect(e.message).toBe('malformed JSON: unexpected ",", expected a value (object, list, string, number, true, false, null, NaN or Infinity)');
    expect(e.expected).toBe('a COCO instances file');
    expect(error('{\n "images": [\n  {"id": 1,,}\n ]}').location).toEqual({ file: 'f.json', line: 3, column: 12 });
    expect(error('{"a": 1').message).toMatch(/unexpected end of file, expected `,` or `}`/);
    expect(error('[1] x').message).toMatch(/expected the end of the document/);
    expect(error('{"a": NaNa}').location?.column).toBe(10);
  });

  it('jsonSyntaxProblem and lineColumn', () => {
    expect(jsonSyntaxProblem('[NaN, -Infinity, {"k": "\\u00e9"}]')).toBeNull();
    expect(jsonSyntaxProblem('{"k" 1}')).toEqual({ offset: 5, expected: '`:` after the property name' });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
