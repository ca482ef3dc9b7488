// SPDX-License-Identifier: Apache-2.0
/**
 * Every `solo` subcommand, in the order `solo --help` lists them. One file per command, each exporting
 * `registerX(program)` that adds its `program.command(...)`; add new commands to this list.
 */
import type { Command } from 'commander';
import { registerCheckDataset } from './check-dataset.js';
import { registerConvertCheckpoint } from './convert-checkpoint.js';
import { registerEval } from './eval.js';
import { registerMakeShapes } from './make-shapes.js';
import { registerPrintConfig } from './print-config.js';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerPrintConfig,
  registerEval,
  registerConvertCheckpoint,
  registerMakeShapes,
  registerCheckDataset,
];

export function registerCommands(program: Command): void {
  for (const register of COMMANDS) register(program);
}
