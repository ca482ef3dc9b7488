// SPDX-License-Identifier: Apache-2.0
/**
 * Every `solo` subcommand, in the order `solo --help` lists them. One file per command, each exporting
 * `registerX(program)` that adds its `program.command(...)`; add new commands to this list.
 */
import type { Command } from 'commander';
import { registerBenchLearn } from './bench-learn.js';
import { registerDemo } from './demo.js';
import { registerInfer } from './infer.js';
import { registerList } from './list.js';
import { registerPlotLog } from './plot-log.js';
import { registerTest } from './test.js';
import { registerTrain } from './train.js';
import { registerBench } from './bench.js';
import { registerCheckDataset } from './check-dataset.js';
import { registerConvertCheckpoint } from './convert-checkpoint.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerMakeShapes } from './make-shapes.js';
import { registerPrintConfig } from './print-config.js';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerTrain,
  registerTest,
  registerInfer,
  registerExport,
  registerDemo,
  registerBenchLearn,
  registerPlotLog,
  registerList,
  registerPrintConfig,
  registerEval,
  registerConvertCheckpoint,
  registerMakeShapes,
  registerCheckDataset,
  registerBench,
];

export function registerCommands(program: Command): void {
  for (const register of COMMANDS) register(program);
}
