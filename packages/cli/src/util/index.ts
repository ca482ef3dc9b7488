// SPDX-License-Identifier: Apache-2.0
export { action, reportError, isDebug, CliExit, BUG_REPORT_URL } from './errors.js';
export { cfgOptionsOption, parseCfgOptions, loadCliConfig } from './cfg-options.js';
export { stderrProgress } from './progress.js';
export { globalOptions, type GlobalOptions } from './global.js';
export { loadConfigPlugins, componentModulesOf } from './plugins.js';
export { checkModelArgs, isOnnxFile, runtimeChoice, runtimeOption } from './runtime.js';
