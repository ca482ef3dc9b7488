// SPDX-License-Identifier: Apache-2.0
/**
 * mmcv's `build_conv_layer` / `build_norm_layer` / `build_activation_layer` for the config dicts the SOLO
 * family uses. Config dicts are mmcv-style (snake_case keys: `num_groups`, `requires_grad`, `deform_groups`;
 * camelCase spellings are accepted too).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, SoloError } from '@solo-ts/core';
import { Conv2d, type Conv2dOptions } from './conv2d.js';
import { DeformConv2dPack, ModulatedDeformConv2dPack } from './dcn.js';
import { BatchNorm2d, GroupNorm } from './norm.js';

/** mmcv conv_cfg: null / `{type: 'Conv2d'}` = plain conv, `DCNv2` = modulated deformable, `DCN` = DCNv1. */
export interface ConvCfg {
  type: 'Conv2d' | 'Conv' | 'DCNv2' | 'DCN';
  deform_groups?: number;
  /** deprecated mmcv alias of deform_groups */
  deformable_groups?: number;
  deformGroups?: number;
  [key: string]: unknown;
}

/** mmcv norm_cfg. */
export interface NormCfg {
  type: 'BN' | 'BN2d' | 'SyncBN' | 'GN';
  num_groups?: number;
  numGroups?: number;
  requires_grad?: boolean;
  requiresGrad?: boolean;
  eps?: number;
  momentum?: number | null;
  [key: string]: unknown;
}

/** mmcv act_cfg. */
export interface ActCfg {
  type: 'ReLU' | 'LeakyReLU' | 'Sigmoid' | 'Tanh';
  negative_slope?: number;
  inplace?: boolean;
  [key: string]: unknown;
}

/** A layer that maps NHWC to NHWC. */
export interface ConvLayer extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/** Options of `buildConvLayer`: those of {@link Conv2d} (the deformable convs take the same). */
export type ConvLayerOptions = Conv2dOptions;

/** mmcv `build_conv_layer(cfg, ...)`. */
export function buildConvLayer(cfg: ConvCfg | null | undefined, options: ConvLayerOptions): Conv2d | ModulatedDeformConv2dPack | DeformConv2dPack {
  const type = cfg?.type ?? 'Conv2d';
  if (type === 'Conv2d' || type === 'Conv') return new Conv2d(options);
  const deformGroups = cfg?.deform_groups ?? cfg?.deformable_groups ?? cfg?.deformGroups ?? 1;
  if (type === 'DCNv2') return new ModulatedDeformConv2dPack({ ...options, deformGroups, init: undefined });
  if (type === 'DCN') return new DeformConv2dPack({ ...options, deformGroups, init: undefined });
  throw new SoloError(`unknown conv_cfg type "${String(type)}"`, { expected: 'Conv2d, DCNv2 or DCN' });
}

/** Abbreviation mmcv uses for a norm layer's attribute name (`bn1`, `gn`). */
export function normAbbr(cfg: NormCfg): 'bn' | 'gn' {
  if (cfg.type === 'GN') return 'gn';
  if (cfg.type === 'BN' || cfg.type === 'BN2d' || cfg.type === 'SyncBN') return 'bn';
  throw new SoloError(`unknown norm_cfg type "${String((cfg as { type?: unknown }).type)}"`, { expected: 'BN, BN2d, SyncBN or GN' });
}

/** mmcv `build_norm_layer(cfg, channels, postfix)` -> [name, layer]. */
export function buildNormLayer(cfg: NormCfg, channels: number, postfix: number | string = ''): [string, BatchNorm2d | GroupNorm] {
  const abbr = normAbbr(cfg);
  const requiresGrad = cfg.requires_grad ?? cfg.requiresGrad ?? true;
  const name = `${abbr}${postfix}`;
  if (abbr === 'gn') {
    const numGroups = cfg.num_groups ?? cfg.numGroups;
    if (numGroups === undefined) throw new SoloError('norm_cfg of type GN needs `num_groups`');
    return [name, new GroupNorm({ numGroups, numChannels: channels, eps: cfg.eps, requiresGrad })];
  }
  return [name, new BatchNorm2d({ numFeatures: channels, eps: cfg.eps, momentum: cfg.momentum, requiresGrad })];
}

/** Apply an act_cfg activation. */
export function applyActivation(x: tf.Tensor4D, cfg: ActCfg): tf.Tensor4D {
  switch (cfg.type) {
    case 'ReLU':
      return tf.relu(x);
    case 'LeakyReLU':
      return tf.leakyRelu(x, cfg.negative_slope ?? 0.01);
    case 'Sigmoid':
      return tf.sigmoid(x);
    case 'Tanh':
      return tf.tanh(x);
    default:
      throw new SoloError(`unknown act_cfg type "${String((cfg as { type?: unknown }).type)}"`, { expected: 'ReLU, LeakyReLU, Sigmoid or Tanh' });
  }
}
