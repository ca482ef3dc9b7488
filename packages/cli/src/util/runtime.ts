// SPDX-License-Identifier: Apache-2.0
/**
 * The `--runtime onnx|tfjs` option of the inference commands (`infer`, `test`, `bench`) and the rule for their
 * model arguments: a config with `--checkpoint` (.pth / .safetensors, or a .onnx exported from that config), or a
 * `.onnx` file alone (where the command needs no dataset). Without `--runtime`, ONNX Runtime runs where
 * onnxruntime-node loads and the model exports (`auto`); tfjs otherwise.
 */
import { Option } from 'commander';
import { SoloError } from '@solo-ts/core';
import type { RuntimeChoice } from '@solo-ts/apis';

/** The commander option. */
export function runtimeOption(): Option {
  return new Option('--runtime <runtime>', 'network runtime: onnx (ONNX Runtime, the default where it loads) or tfjs (TensorFlow.js)').choices(['onnx', 'tfjs']);
}

/** `auto` when the option is absent. */
export function runtimeChoice(value: string | undefined): RuntimeChoice {
  return (value ?? 'auto') as RuntimeChoice;
}

export const isOnnxFile = (p: string | undefined): boolean => !!p && /\.onnx$/i.test(p);

/** The checks on `<model> [--checkpoint]` common to the inference commands (see the module doc). */
export function checkModelArgs(model: string, checkpoint: string | undefined, runtime: RuntimeChoice, o: { needsConfig?: string } = {}): void {
  if (isOnnxFile(model)) {
    if (o.needsConfig) throw new SoloError(`${o.needsConfig} needs a config (its test split); give the .onnx file with --checkpoint`, { code: 'ARGUMENT', hint: `solo ${o.needsConfig.replace(/^solo /, '')} CONFIG --checkpoint ${model}` });
    if (checkpoint) throw new SoloError(`${model} holds its weights: give no --checkpoint with a .onnx file`, { code: 'ARGUMENT' });
  } else if (!checkpoint) {
    throw new SoloError(`--checkpoint is required with a config${o.needsConfig ? '' : ' (or give a .onnx file in place of the config)'}`, { code: 'ARGUMENT' });
  }
  if (runtime === 'tfjs' && (isOnnxFile(model) || isOnnxFile(checkpoint))) {
    throw new SoloError('--runtime tfjs needs a config and a .pth or .safetensors checkpoint, not a .onnx file', { code: 'ARGUMENT', hint: 'use --runtime onnx (the default) for a .onnx file' });
  }
}

/** `--ort-providers cuda,cpu`: ONNX Runtime execution providers in order of preference (default cpu). */
export function providersOption(): Option {
  return new Option('--ort-providers <list>', 'ONNX Runtime execution providers, comma-separated, e.g. cuda,cpu (needs the CUDA build: docs/onnx-runtime.md); default cpu');
}

/** The `--ort-providers` list, or undefined. */
export function parseProviders(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new SoloError(`--ort-providers needs at least one provider, got "${value}"`, { code: 'ARGUMENT', expected: 'e.g. cuda,cpu' });
  return list;
}
