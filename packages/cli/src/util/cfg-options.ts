// SPDX-License-Identifier: Apache-2.0
/**
 * The `--cfg-options key=value ...` option shared by commands that read a config, and the config loader
 * that applies it.
 */
import { Option } from 'commander';
import { loadConfig, parseCfgOptions as parseOptions, type CfgOption, type Config } from '@solo-ts/config';

/** The commander option: `--cfg-options <key=value...>` (values are YAML; see docs/configs.md). */
export function cfgOptionsOption(): Option {
  return new Option(
    '--cfg-options <key=value...>',
    'override config keys (values are YAML; put this after the config path), e.g. model.test_cfg.score_thr=0.3 test_dataloader.dataset.pipeline.1.scale=[208,124]',
  );
}

/** Parse `key=value` strings (values as YAML); a malformed one is a `SoloError` naming it. */
export function parseCfgOptions(list: readonly string[] | undefined): CfgOption[] {
  return parseOptions(list ? [...list] : []);
}

/** Load a config file with the command's `--cfg-options`. */
export function loadCliConfig(file: string, cfgOptions?: readonly string[]): Config {
  return loadConfig(file, { cfgOptions: cfgOptions ? [...cfgOptions] : undefined });
}
