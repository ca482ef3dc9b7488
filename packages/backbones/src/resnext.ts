// SPDX-License-Identifier: Apache-2.0
/**
 * ResNeXt backbone (mmdet `ResNeXt`, registry key `ResNeXt`, scope `models`): ResNet with grouped 3x3 convs in
 * the Bottleneck; inner width `floor(planes * base_width / base_channels) * groups` (planes when groups = 1).
 * Depths 50, 101, 152. Same names, outputs and training behaviour as {@link ResNet}.
 */
import { defineOptions, resolveOptions, SoloError, type BuildContext, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { Bottleneck, type BlockClass, type BlockOptions, type ResBlock } from './blocks.js';
import { resnetOptions, ResNet } from './resnet.js';

/** The options of {@link ResNeXt} (mmdet `ResNeXt.__init__`): ResNet's, Bottleneck depths only, groups and width. */
export const resnextOptions = defineOptions({
  ...resnetOptions,
  depth: { type: 'integer', required: true, enum: [50, 101, 152], doc: 'network depth (Bottleneck): 50, 101 or 152' },
  groups: { type: 'integer', default: 1, doc: 'groups of the 3x3 conv of each Bottleneck' },
  base_width: { type: 'integer', default: 4, doc: 'width per group at base_channels 64' },
});
/** Resolved options of {@link ResNeXt}. */
export type ResNeXtOptions = ResolvedOptions<typeof resnextOptions>;

const ARCH: Record<number, [BlockClass, number[]]> = {
  50: [Bottleneck, [3, 4, 6, 3]],
  101: [Bottleneck, [3, 4, 23, 3]],
  152: [Bottleneck, [3, 8, 36, 3]],
};

export class ResNeXt extends ResNet {
  static override readonly type: string = 'ResNeXt';
  static override readonly description: string = 'ResNeXt backbone (mmdet ResNeXt): grouped 3x3 convs, optional DCNv2';
  static override readonly options = resnextOptions;

  constructor(options: OptionsInput<typeof resnextOptions>, ctx?: BuildContext) {
    const { groups, baseWidth, ...resnet } = resolveOptions(resnextOptions, options, 'ResNeXt');
    ResNeXt.pending = { groups, baseWidth, baseChannels: resnet.baseChannels };
    try {
      if (!(resnet.depth in ARCH)) throw new SoloError(`invalid depth ${resnet.depth} for ResNeXt`, { expected: '50, 101 or 152' });
      super(resnet, ctx);
    } finally {
      ResNeXt.pending = null;
    }
  }

  // The block settings must be known while ResNet's constructor builds the stages (before this subclass's
  // fields exist), so they travel through a static slot set just before super().
  private static pending: { groups: number; baseWidth: number; baseChannels: number } | null = null;

  protected override arch(): Record<number, [BlockClass, number[]]> {
    return ARCH;
  }

  protected override makeBlock(block: BlockClass, o: BlockOptions): ResBlock {
    const p = ResNeXt.pending!;
    return new block({ ...o, groups: p.groups, baseWidth: p.baseWidth, baseChannels: p.baseChannels });
  }
}
