// SPDX-License-Identifier: Apache-2.0
/**
 * Errors of solo-ts.
 *
 * A `SoloError` is a *user* error: bad input, a bad config, a missing file, a checkpoint that does not fit.
 * Command-line entry points print only its message (no stack trace unless `--debug`) and exit non-zero.
 * Anything else that escapes is a bug and is printed with its stack.
 */

/** Where in a source file a value came from (1-based line and column). */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path inside the file, e.g. `model.backbone.depth`. */
  key?: string;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  if (loc.key) s += ` (key \`${loc.key}\`)`;
  return s;
}

export type SoloErrorCode =
  | 'CONFIG'
  | 'REGISTRY'
  | 'FILE'
  | 'CHECKPOINT'
  | 'SHAPE'
  | 'DATASET'
  | 'ARGUMENT'
  | 'BACKEND'
  | 'RUNTIME';

export interface SoloErrorOptions {
  code?: SoloErrorCode;
  location?: SourceLocation;
  /** What was expected, phrased for the user. */
  expected?: string;
  /** A suggestion, e.g. "did you mean `SOLOV2Head`?". */
  hint?: string;
  cause?: unknown;
}

/** A user-facing error with a clear message, an optional source location and a hint. */
export class SoloError extends Error {
  readonly code: SoloErrorCode;
  readonly location?: SourceLocation;
  readonly expected?: string;
  readonly hint?: string;
  /** Marks user errors; the CLI prints them without a stack trace. */
  readonly isSoloError = true;

  constructor(message: string, options: SoloErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'SoloError';
    this.code = options.code ?? 'RUNTIME';
    this.location = options.location;
    this.expected = options.expected;
    this.hint = options.hint;
  }

  /** The full human-readable text: location, message, expectation and hint on separate lines. */
  format(): string {
    const lines: string[] = [];
    const where = formatLocation(this.location);
    lines.push(where ? `${where}: ${this.message}` : this.message);
    if (this.expected) lines.push(`  expected: ${this.expected}`);
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    return lines.join('\n');
  }
}

export class ConfigError extends SoloError {
  constructor(message: string, options: Omit<SoloErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: 'CONFIG' });
    this.name = 'ConfigError';
  }
}

export class RegistryError extends SoloError {
  constructor(message: string, options: Omit<SoloErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: 'REGISTRY' });
    this.name = 'RegistryError';
  }
}

export class CheckpointError extends SoloError {
  constructor(message: string, options: Omit<SoloErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: 'CHECKPOINT' });
    this.name = 'CheckpointError';
  }
}

export class ShapeError extends SoloError {
  constructor(message: string, options: Omit<SoloErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: 'SHAPE' });
    this.name = 'ShapeError';
  }
}

export class DatasetError extends SoloError {
  constructor(message: string, options: Omit<SoloErrorOptions, 'code'> = {}) {
    super(message, { ...options, code: 'DATASET' });
    this.name = 'DatasetError';
  }
}

export function isSoloError(e: unknown): e is SoloError {
  return typeof e === 'object' && e !== null && (e as { isSoloError?: unknown }).isSoloError === true;
}

/** Levenshtein distance, used to suggest the closest known names. */
export function editDistance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  const prev = new Array<number>(bl.length + 1);
  for (let j = 0; j <= bl.length; j++) prev[j] = j;
  for (let i = 1; i <= al.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= bl.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (al[i - 1] === bl[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[bl.length];
}

/** The known names closest to `name` (at most `n`), best first. */
export function closestNames(name: string, known: Iterable<string>, n = 3): string[] {
  const scored = [...known].map((k) => {
    let d = editDistance(name, k);
    if (k.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(k.toLowerCase())) d = Math.min(d, 1);
    return { k, d };
  });
  scored.sort((x, y) => x.d - y.d || x.k.localeCompare(y.k));
  const limit = Math.max(3, Math.ceil(name.length / 2));
  return scored.filter((s) => s.d <= limit).slice(0, n).map((s) => s.k);
}
