// SPDX-License-Identifier: Apache-2.0
/**
 * `tools/test.ts CONFIG --checkpoint CKPT [options]`: the same as `solo test` (mmdetection's tools/test.py).
 *
 *   npx tsx tools/test.ts configs/demo/solov2-light_r18_shapes.yaml --checkpoint work_dirs/demo/epoch_12.safetensors
 *   npx tsx --conditions=source tools/test.ts CONFIG --checkpoint solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth --out segm.json
 *
 * Options: see `solo test --help`.
 */
import { main } from '@solo-ts/cli';
import { releaseBackendThreads } from '@solo-ts/backends';

process.exitCode = await main([process.argv[0], 'solo', 'test', ...process.argv.slice(2)]);
releaseBackendThreads();
