// SPDX-License-Identifier: Apache-2.0
/** The options every `solo` command accepts (declared on the program in `main.ts`). */
import type { Command } from 'commander';
import type { BackendChoice } from '@solo-ts/backends';
import { isDebug } from './errors.js';

export interface GlobalOptions {
  /** Print stack traces for user errors too. */
  debug: boolean;
  /** TensorFlow.js backend asked for with `--backend` (default `auto`). */
  backend: BackendChoice;
}

/** The global options as seen from a command (commander's `optsWithGlobals`). */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { backend?: BackendChoice };
  return { debug: isDebug(cmd), backend: o.backend ?? 'auto' };
}
