// SPDX-License-Identifier: Apache-2.0
/** The five golden variants of ../shared/parity (one folder each), shared by every parity test. */
export const VARIANTS = [
  'solo_r50_fpn_1x_coco',
  'decoupled-solo_r50_fpn_1x_coco',
  'decoupled-solo-light_r50_fpn_3x_coco',
  'solov2_r50_fpn_1x_coco',
  'solov2-light_r18_fpn_ms-3x_coco',
] as const;
export type Variant = (typeof VARIANTS)[number];
