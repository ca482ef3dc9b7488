// SPDX-License-Identifier: Apache-2.0
/**
 * Type-level checks of the option declarations (they run when tests are type-checked): each converted component's
 * constructor takes the options its own declaration resolves to, and the derived types are the intended ones.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ComponentClass, ComponentConfig, ResolvedOptions } from '@solo-ts/core';
import { DiceLoss, FocalLoss, type DiceLossOptions } from '@solo-ts/losses';
import { FPN, type FPNOptions } from '@solo-ts/necks';
import { ResNet, ResNeXt, type ResNeXtOptions } from '@solo-ts/backbones';
import { SOLOGridAssigner } from '@solo-ts/assigners';
import { SOLOMaskPostProcessor } from '@solo-ts/postprocess';
import { DetDataPreprocessor, SOLO, SOLOv2, type SingleStageInstanceSegmentorOptions } from '@solo-ts/detectors';
import { AspectRatioBatchSampler, CocoDataset, DefaultSampler, LoadAnnotations, LoadImageFromFile, PackDetInputs, RandomChoiceResize, RandomFlip, Resize } from '@solo-ts/datasets';
import { CocoMetric } from '@solo-ts/evaluation';
import {
  Adam,
  AdamW,
  CheckInvalidLossHook,
  CheckpointHook,
  ConstantLR,
  CosineAnnealingLR,
  DetLocalVisualizer,
  DetVisualizationHook,
  DistSamplerSeedHook,
  EpochBasedTrainLoop,
  IterBasedTrainLoop,
  IterTimerHook,
  LinearLR,
  LocalVisBackend,
  LoggerHook,
  LogProcessor,
  MultiStepLR,
  NanGuardHook,
  OptimWrapper,
  ParamSchedulerHook,
  RuntimeInfoHook,
  SGD,
  StepLR,
  TensorboardVisBackend,
  TestLoop,
  ValLoop,
  type LoggerHookOptions,
  type SGDOptions,
} from '@solo-ts/engine';
import {
  DecoupledSOLOHead,
  DecoupledSOLOLightHead,
  SOLOHead,
  SOLOV2Head,
  soloHeadOptions,
  type DecoupledSOLOLightHeadOptions,
  type MaskFeatModuleOptions,
  type SOLOHeadOptions,
  type SOLOV2HeadInput,
  type SOLOV2HeadOptions,
} from '@solo-ts/heads';

describe('option types come from the declarations', () => {
  it('each converted component takes its declared options', () => {
    expectTypeOf(DiceLoss).toMatchTypeOf<ComponentClass<DiceLoss, typeof DiceLoss.options>>();
    expectTypeOf(FocalLoss).toMatchTypeOf<ComponentClass<FocalLoss, typeof FocalLoss.options>>();
    expectTypeOf(FPN).toMatchTypeOf<ComponentClass<FPN, typeof FPN.options>>();
    expectTypeOf(ResNet).toMatchTypeOf<ComponentClass<ResNet, typeof ResNet.options>>();
    expectTypeOf(ResNeXt).toMatchTypeOf<ComponentClass<ResNeXt, typeof ResNeXt.options>>();
    expectTypeOf(SOLOGridAssigner).toMatchTypeOf<ComponentClass<SOLOGridAssigner, typeof SOLOGridAssigner.options>>();
    expectTypeOf(SOLOMaskPostProcessor).toMatchTypeOf<ComponentClass<SOLOMaskPostProcessor, typeof SOLOMaskPostProcessor.options>>();
    expectTypeOf(DetDataPreprocessor).toMatchTypeOf<ComponentClass<DetDataPreprocessor, typeof DetDataPreprocessor.options>>();
    expectTypeOf(SOLO).toMatchTypeOf<ComponentClass<SOLO, typeof SOLO.options>>();
    expectTypeOf(SOLOv2).toMatchTypeOf<ComponentClass<SOLOv2, typeof SOLOv2.options>>();
    expectTypeOf(CocoDataset).toMatchTypeOf<ComponentClass<CocoDataset, typeof CocoDataset.options>>();
    expectTypeOf(LoadImageFromFile).toMatchTypeOf<ComponentClass<LoadImageFromFile, typeof LoadImageFromFile.options>>();
    expectTypeOf(LoadAnnotations).toMatchTypeOf<ComponentClass<LoadAnnotations, typeof LoadAnnotations.options>>();
    expectTypeOf(Resize).toMatchTypeOf<ComponentClass<Resize, typeof Resize.options>>();
    expectTypeOf(RandomChoiceResize).toMatchTypeOf<ComponentClass<RandomChoiceResize, typeof RandomChoiceResize.options>>();
    expectTypeOf(RandomFlip).toMatchTypeOf<ComponentClass<RandomFlip, typeof RandomFlip.options>>();
    expectTypeOf(PackDetInputs).toMatchTypeOf<ComponentClass<PackDetInputs, typeof PackDetInputs.options>>();
    expectTypeOf(DefaultSampler).toMatchTypeOf<ComponentClass<DefaultSampler, typeof DefaultSampler.options>>();
    expectTypeOf(AspectRatioBatchSampler).toMatchTypeOf<ComponentClass<AspectRatioBatchSampler, typeof AspectRatioBatchSampler.options>>();
    expectTypeOf(CocoMetric).toMatchTypeOf<ComponentClass<CocoMetric, typeof CocoMetric.options>>();
    expectTypeOf(SOLOHead).toMatchTypeOf<ComponentClass<SOLOHead, typeof SOLOHead.options>>();
    expectTypeOf(DecoupledSOLOHead).toMatchTypeOf<ComponentClass<DecoupledSOLOHead, typeof DecoupledSOLOHead.options>>();
    expectTypeOf(DecoupledSOLOLightHead).toMatchTypeOf<ComponentClass<DecoupledSOLOLightHead, typeof DecoupledSOLOLightHead.options>>();
    expectTypeOf(SOLOV2Head).toMatchTypeOf<ComponentClass<SOLOV2Head, typeof SOLOV2Head.options>>();
  });

  it('the heads spread one declaration and add their own options', () => {
    expectTypeOf<SOLOHeadOptions['numClasses']>().toEqualTypeOf<number>();
    expectTypeOf<SOLOHeadOptions['scaleRanges']>().toEqualTypeOf<Array<[number, number]>>();
    expectTypeOf<SOLOHeadOptions['numGrids']>().toEqualTypeOf<number[]>();
    expectTypeOf<SOLOHeadOptions['testCfg']>().toEqualTypeOf<Record<string, unknown> | null | undefined>();
    expectTypeOf<SOLOHeadOptions['trainCfg']>().toEqualTypeOf<Record<string, unknown> | null | undefined>();
    expectTypeOf<SOLOV2HeadOptions['maskFeatureHead']>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<SOLOV2HeadOptions['lossMask']>().toEqualTypeOf<ComponentConfig>();
    expectTypeOf<SOLOV2HeadInput['inChannels']>().toEqualTypeOf<number>();
    expectTypeOf<DecoupledSOLOLightHeadOptions['dcnCfg']>().toMatchTypeOf<object | null | undefined>();
    expectTypeOf<MaskFeatModuleOptions['maskStride']>().toEqualTypeOf<number>();
    expect(Object.keys(SOLOV2Head.options).slice(0, Object.keys(soloHeadOptions).length)).toEqual(Object.keys(soloHeadOptions));
    expect(DecoupledSOLOHead.options.loss_mask.default).toEqual({ type: 'DiceLoss', use_sigmoid: true, activate: false, loss_weight: 3.0 });
    expect(SOLOHead.options).toBe(soloHeadOptions);
  });

  it('each engine component takes its declared options', () => {
    expectTypeOf(SGD).toMatchTypeOf<ComponentClass<SGD, typeof SGD.options>>();
    expectTypeOf(Adam).toMatchTypeOf<ComponentClass<Adam, typeof Adam.options>>();
    expectTypeOf(AdamW).toMatchTypeOf<ComponentClass<AdamW, typeof AdamW.options>>();
    expectTypeOf(OptimWrapper).toMatchTypeOf<ComponentClass<OptimWrapper, typeof OptimWrapper.options>>();
    expectTypeOf(LinearLR).toMatchTypeOf<ComponentClass<LinearLR, typeof LinearLR.options>>();
    expectTypeOf(MultiStepLR).toMatchTypeOf<ComponentClass<MultiStepLR, typeof MultiStepLR.options>>();
    expectTypeOf(StepLR).toMatchTypeOf<ComponentClass<StepLR, typeof StepLR.options>>();
    expectTypeOf(ConstantLR).toMatchTypeOf<ComponentClass<ConstantLR, typeof ConstantLR.options>>();
    expectTypeOf(CosineAnnealingLR).toMatchTypeOf<ComponentClass<CosineAnnealingLR, typeof CosineAnnealingLR.options>>();
    expectTypeOf(IterTimerHook).toMatchTypeOf<ComponentClass<IterTimerHook, typeof IterTimerHook.options>>();
    expectTypeOf(LoggerHook).toMatchTypeOf<ComponentClass<LoggerHook, typeof LoggerHook.options>>();
    expectTypeOf(ParamSchedulerHook).toMatchTypeOf<ComponentClass<ParamSchedulerHook, typeof ParamSchedulerHook.options>>();
    expectTypeOf(CheckpointHook).toMatchTypeOf<ComponentClass<CheckpointHook, typeof CheckpointHook.options>>();
    expectTypeOf(DistSamplerSeedHook).toMatchTypeOf<ComponentClass<DistSamplerSeedHook, typeof DistSamplerSeedHook.options>>();
    expectTypeOf(RuntimeInfoHook).toMatchTypeOf<ComponentClass<RuntimeInfoHook, typeof RuntimeInfoHook.options>>();
    expectTypeOf(DetVisualizationHook).toMatchTypeOf<ComponentClass<DetVisualizationHook, typeof DetVisualizationHook.options>>();
    expectTypeOf(NanGuardHook).toMatchTypeOf<ComponentClass<NanGuardHook, typeof NanGuardHook.options>>();
    expectTypeOf(CheckInvalidLossHook).toMatchTypeOf<ComponentClass<CheckInvalidLossHook, typeof CheckInvalidLossHook.options>>();
    expectTypeOf(EpochBasedTrainLoop).toMatchTypeOf<ComponentClass<EpochBasedTrainLoop, typeof EpochBasedTrainLoop.options>>();
    expectTypeOf(IterBasedTrainLoop).toMatchTypeOf<ComponentClass<IterBasedTrainLoop, typeof IterBasedTrainLoop.options>>();
    expectTypeOf(ValLoop).toMatchTypeOf<ComponentClass<ValLoop, typeof ValLoop.options>>();
    expectTypeOf(TestLoop).toMatchTypeOf<ComponentClass<TestLoop, typeof TestLoop.options>>();
    expectTypeOf(DetLocalVisualizer).toMatchTypeOf<ComponentClass<DetLocalVisualizer, typeof DetLocalVisualizer.options>>();
    expectTypeOf(LocalVisBackend).toMatchTypeOf<ComponentClass<LocalVisBackend, typeof LocalVisBackend.options>>();
    expectTypeOf(TensorboardVisBackend).toMatchTypeOf<ComponentClass<TensorboardVisBackend, typeof TensorboardVisBackend.options>>();
    expectTypeOf(LogProcessor).toMatchTypeOf<ComponentClass<LogProcessor, typeof LogProcessor.options>>();
    expectTypeOf<SGDOptions>().toEqualTypeOf<{ lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }>();
    expectTypeOf<LoggerHookOptions['outSuffix']>().toEqualTypeOf<string | string[] | null>();
    expectTypeOf<LoggerHookOptions['priority']>().toEqualTypeOf<number | string | null>();
    expectTypeOf<ResolvedOptions<typeof CosineAnnealingLR.options>['TMax']>().toEqualTypeOf<number | undefined>();
    // mmengine's `T_max`, declared inside defineOptions: TypeScript key `TMax`, optional (no default)
    expectTypeOf<keyof ResolvedOptions<typeof CosineAnnealingLR.options>>().toEqualTypeOf<'TMax' | 'etaMin' | 'begin' | 'end' | 'byEpoch' | 'convertToIterBased' | 'verbose'>();
    expectTypeOf<ResolvedOptions<typeof CosineAnnealingLR.options>['etaMin']>().toEqualTypeOf<number>();
  });

  it('derives camelCase keys, enums, nullable and defaulted keys', () => {
    expectTypeOf<DiceLossOptions>().toEqualTypeOf<{ useSigmoid: boolean; activate: boolean; reduction: 'none' | 'mean' | 'sum'; naiveDice: boolean; lossWeight: number; eps: number }>();
    expectTypeOf<FPNOptions['inChannels']>().toEqualTypeOf<number[]>();
    expectTypeOf<FPNOptions['addExtraConvs']>().toEqualTypeOf<boolean | 'on_input' | 'on_lateral' | 'on_output'>();
    expectTypeOf<ResNeXtOptions['depth']>().toEqualTypeOf<50 | 101 | 152>();
    expectTypeOf<ResNeXtOptions['stemChannels']>().toEqualTypeOf<number | null>();
    expectTypeOf<ResNeXtOptions['baseWidth']>().toEqualTypeOf<number>();
    expectTypeOf<SingleStageInstanceSegmentorOptions['backbone']>().toEqualTypeOf<ComponentConfig>();
    expectTypeOf<SingleStageInstanceSegmentorOptions['neck']>().toEqualTypeOf<ComponentConfig | null | undefined>();
    expectTypeOf<ResolvedOptions<typeof CocoMetric.options>['proposalNums']>().toEqualTypeOf<number[]>();
  });

  it('declarations are the static options the registry reads', () => {
    expect(ResNeXt.options.depth.enum).toEqual([50, 101, 152]);
    expect(Object.keys(ResNeXt.options)).toEqual(expect.arrayContaining(Object.keys(ResNet.options)));
  });
});
