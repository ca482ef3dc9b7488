// SPDX-License-Identifier: Apache-2.0
/**
 * `solo print-config CONFIG [--cfg-options k=v ...] [--sources | --json | --plain]`
 *
 * Prints the merged config (after `_base_` inheritance and overrides). By default it is YAML with a
 * `# file:line` comment on each key saying which file set it (or `--cfg-options`); `--sources` prints a table of
 * leaf keys instead, `--json` the plain merged data as JSON, `--plain` YAML without comments (what a run saves
 * into its work directory).
 */
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { formatConfigWithSources } from '@solo-ts/config';
import { action } from '../util/errors.js';
import { cfgOptionsOption, loadCliConfig } from '../util/cfg-options.js';

interface PrintConfigOptions {
  cfgOptions?: string[];
  sources?: boolean;
  json?: boolean;
  plain?: boolean;
}

export function registerPrintConfig(program: Command): void {
  program
    .command('print-config')
    .description('print the merged config and the file:line that set each key')
    .argument('<config>', 'YAML config file')
    .addOption(cfgOptionsOption())
    .option('--sources', 'print a table of leaf keys, values and the file:line that set them')
    .option('--json', 'print the merged config as JSON')
    .option('--plain', 'print YAML without the source comments')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo print-config configs/solov2/solov2_r50_fpn_1x_coco.yaml\n' +
        '  solo print-config my.yaml --cfg-options model.test_cfg.score_thr=0.3 --sources',
    )
    .action(
      action((file: string, opts: PrintConfigOptions) => {
        const modes = [opts.sources, opts.json, opts.plain].filter(Boolean).length;
        if (modes > 1) {
          throw new SoloError('--sources, --json and --plain cannot be combined', { code: 'ARGUMENT' });
        }
        const cfg = loadCliConfig(file, opts.cfgOptions);
        let text: string;
        if (opts.json) text = `${JSON.stringify(cfg.data, null, 2)}\n`;
        else if (opts.plain) text = cfg.toYAML();
        else text = formatConfigWithSources(cfg, { table: opts.sources });
        process.stdout.write(text);
      }),
    );
}
