// SPDX-License-Identifier: Apache-2.0
/**
 * Reading COCO JSON text (instance annotations, detection results) with the rules of Python's `json` module,
 * which writes these files (pycocotools `COCO(annotation_file)` and mmdetection's `results2json` read and
 * write them with it):
 *
 * - `NaN`, `Infinity` and `-Infinity` (outside strings) are accepted and become the numbers they stand for
 *   (`json.dump` writes them for non-finite floats), so that the validation that follows can name the
 *   annotation whose value is not finite instead of failing on the whole file.
 * - A leading UTF-8 byte-order mark is skipped.
 * - A syntax error is a `DatasetError` (code `DATASET`) whose location is the file, line and column (1-based)
 *   of the first bad character, whose message says what was found and what the JSON grammar expected there,
 *   and whose `expected` describes the document (the caller's words, e.g. "a COCO instances file").
 *
 * The strict `JSON.parse` runs first; the slower paths run only when it fails. Browser-safe (no fs): callers
 * read the file and report read errors themselves.
 */
import { DatasetError } from '@solo-ts/core';

const SENTINEL = '\u0000solo-nonfinite:';

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** Where a JSON text (with Python's non-finite numbers) first goes wrong, or null when it is valid. */
export interface JsonSyntaxProblem {
  /** 0-based offset of the first bad character (the text length at an early end). */
  offset: number;
  /** What the grammar expected there. */
  expected: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/;

/** A recursive-descent scan of the JSON grammar plus `NaN` / `Infinity` / `-Infinity` (Python's `json`). */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const n = text.length;
  class Bad extends Error {
    constructor(readonly expected: string) {
      super(expected);
    }
  }
  const bad = (expected: string): never => {
    throw new Bad(expected);
  };
  const ws = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const expect = (ch: string, what: string): void => {
    ws();
    if (text[i] !== ch) bad(what);
    i++;
  };
  const str = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) bad('a closing `"` (control characters must be escaped)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          i += 2;
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) bad('four hex digits after `\\u`');
          i += 4;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          bad('an escape character (one of `"\\/bfnrtu`)');
        }
      } else i++;
    }
    bad('a closing `"`');
  };
  const word = (w: string): boolean => {
    if (!text.startsWith(w, i)) return false;
    i += w.length;
    return true;
  };
  /** Just past an opening bracket: true (and past it) when the closing one follows at once. */
  const empty = (close: string): boolean => {
    i++;
    ws();
    if (text[i] !== close) return false;
    i++;
    return true;
  };
  /** After an item: true past a `,`, false past the closing bracket. */
  const more = (close: string, what: string): boolean => {
    ws();
    if (text[i] === ',' || text[i] === close) return text[i++] === ',';
    return bad(what);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      if (empty('}')) return;
      do {
        ws();
        if (text[i] !== '"') bad('a property name in double quotes');
        str();
        expect(':', '`:` after the property name');
        value();
      } while (more('}', '`,` or `}` after the property value'));
    } else if (c === '[') {
      if (empty(']')) return;
      do value();
      while (more(']', '`,` or `]` after the list item'));
    } else if (c === '"') str();
    else if (!(word('true') || word('false') || word('null') || word('NaN') || word('Infinity') || word('-Infinity'))) {
      const m = NUMBER.exec(text.slice(i, i + 400));
      if (!m) bad('a value (object, list, string, number, true, false, null, NaN or Infinity)');
      i += (m as RegExpExecArray)[0].length;
    }
  };
  try {
    value();
    ws();
    if (i < n) bad('the end of the document');
    return null;
  } catch (e) {
    if (e instanceof Bad) return { offset: Math.min(i, n), expected: e.expected };
    throw e;
  }
}

/** Replace bare NaN / Infinity / -Infinity tokens outside strings with sentinel strings. */
function quoteNonFinite(text: string): string {
  let out = '';
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped char
      else if (ch === 34) inString = false;
      continue;
    }
    if (ch === 34) {
      inString = true;
      continue;
    }
    let token: string | undefined;
    if (ch === 78 && text.startsWith('NaN', i)) token = 'NaN';
    else if (ch === 73 && text.startsWith('Infinity', i)) token = 'Infinity';
    else if (ch === 45 && text.startsWith('-Infinity', i)) token = '-Infinity';
    if (token) {
      out += text.slice(start, i) + JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      start = i + 1;
    }
  }
  return out + text.slice(start);
}

function reviveNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(SENTINEL)) {
    const t = value.slice(SENTINEL.length);
    return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
  }
  return value;
}

/** What a COCO instances file is, for `parseJsonText`'s `expected` (datasets, the engine's evaluator). */
export const COCO_INSTANCES = 'a COCO instances file (a JSON object with `images`, `annotations` and `categories`)';

/**
 * Parse JSON text with Python `json`'s rules (see the module doc).
 * @param file the file name for the error location
 * @param expected what the document should be, for the error (default "a JSON document")
 */
export function parseJsonText(text: string, file: string, expected = 'a JSON document'): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    // Python's json writes NaN / Infinity: try that reading first; locate the problem (a scan of the whole text)
    // only when the text is not JSON either way.
    let e2: unknown;
    try {
      return JSON.parse(quoteNonFinite(text), reviveNonFinite);
    } catch (err) {
      e2 = err;
    }
    const problem = jsonSyntaxProblem(text);
    if (!problem) throw new DatasetError(`malformed JSON: ${e2 instanceof Error ? e2.message : String(e2)}`, { location: { file }, expected, cause: e2 });
    const { offset } = problem;
    const found = offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : 'unexpected end of file';
    throw new DatasetError(`malformed JSON: ${found}, expected ${problem.expected}`, {
      location: { file, ...lineColumn(text, offset) },
      expected,
      cause: e,
    });
  }
}
