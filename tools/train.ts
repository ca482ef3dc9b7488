// SPDX-License-Identifier: Apache-2.0
/**
 * `tools/train.ts CONFIG [options]`: the same as `solo train CONFIG [options]` (mmdetection's tools/train.py).
 *
 *   npx tsx tools/train.ts configs/demo/solov2-light_r18_shapes.yaml --work-dir work_dirs/shapes   # after `npm run build`
 *   npx tsx --conditions=source tools/train.ts configs/demo/solov2-light_r18_shapes.yaml            # from sources, no build
 *
 * Options: see `solo train --help` (or `npx tsx tools/train.ts --help`).
 */
import { main } from '@solo-ts/cli';
import { releaseBackendThreads } from '@solo-ts/backends';

process.exitCode = await main([process.argv[0], 'solo', 'train', ...process.argv.slice(2)]);
releaseBackendThreads();
