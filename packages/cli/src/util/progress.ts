// SPDX-License-Identifier: Apache-2.0
/** A `Progress` (from `@solo-ts/core`) on stderr: a redrawn bar on a terminal, periodic lines in logs. */
import { Progress, type ProgressOptions } from '@solo-ts/core';

export function stderrProgress(options: Omit<ProgressOptions, 'write' | 'isTTY'> & { isTTY?: boolean } = {}): Progress {
  return new Progress({
    write: (s) => process.stderr.write(s),
    isTTY: options.isTTY ?? Boolean(process.stderr.isTTY),
    columns: process.stderr.columns ?? 80,
    ...options,
  });
}
