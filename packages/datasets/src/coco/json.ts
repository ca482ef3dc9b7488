// SPDX-License-Identifier: Apache-2.0
/**
 * JSON parsing for COCO annotation files with user-facing errors.
 *
 * - Syntax errors become a `DatasetError` naming the file, line and column.
 * - Python's `json.dump` writes `NaN`, `Infinity` and `-Infinity` for non-finite floats; plain `JSON.parse`
 *   rejects them. When the strict parse fails, the text is parsed again with those tokens (outside strings)
 *   accepted and turned into the numbers they stand for, so that the validation that follows can name the
 *   annotation whose coordinate is NaN instead of failing on the whole file.
 *
 * Browser-safe (no fs).
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

/** Replace bare NaN / Infinity / -Infinity tokens outside strings with sentinel strings. */
function quoteNonFinite(text: string): { text: string; count: number } {
  let out = '';
  let count = 0;
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
      count++;
    }
  }
  return { text: count ? out + text.slice(start) : text, count };
}

function reviveNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(SENTINEL)) {
    const t = value.slice(SENTINEL.length);
    return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
  }
  return value;
}

function syntaxError(file: string, text: string, e: unknown): DatasetError {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /position (\d+)/.exec(msg);
  let location: { file: string; line?: number; column?: number } = { file };
  if (m) location = { file, ...lineColumn(text, Number(m[1])) };
  return new DatasetError(`malformed JSON: ${msg}`, {
    location,
    expected: 'a COCO instances file (a JSON object with `images`, `annotations` and `categories`)',
  });
}

/** Parse JSON text, accepting Python's NaN/Infinity; syntax errors name the file, line and column. */
export function parseJsonLenient(text: string, file: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    const { text: quoted, count } = quoteNonFinite(text);
    if (count === 0) throw syntaxError(file, text, e);
    try {
      return JSON.parse(quoted, reviveNonFinite);
    } catch {
      throw syntaxError(file, text, e);
    }
  }
}
