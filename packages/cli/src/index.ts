// SPDX-License-Identifier: Apache-2.0
/** @solo-ts/cli: the `solo` command line, and the helpers its commands share. */
export const PACKAGE_NAME = '@solo-ts/cli';

export { main, createProgram } from './main.js';
export { COMMANDS, registerCommands } from './commands/index.js';
export {
  BUG_REPORT_URL, CliExit, action, cfgOptionsOption, componentModulesOf, globalOptions, isDebug, loadCliConfig,
  loadConfigPlugins, parseCfgOptions, reportError, stderrProgress, type GlobalOptions,
} from './util/index.js';
export type { BenchResult } from './bench/bench.js';
export { syntheticTrainBatch } from './bench/inputs.js';
export { Progress, createProgress, type ProgressOptions } from '@solo-ts/core';
