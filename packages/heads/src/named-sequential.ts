// SPDX-License-Identifier: Apache-2.0
/**
 * `NamedSequential`: PyTorch `nn.Sequential` built with `add_module`, as mmdetection's `MaskFeatModule` builds
 * `convs_all_levels[i]`: children under explicit names (`conv0`, `upsample0`), so state-dict keys match
 * mmdetection's (`convs_all_levels.1.conv0.conv.weight`). Index-named lists are `ModuleList` of @solo-ts/ops.
 */
import { Module } from '@solo-ts/core';
import { layerToOnnx, notExportable, type OnnxGraph, type OnnxValue } from '@solo-ts/ops';

/** `nn.Sequential` with named children (`conv0`, `upsample0`, ...); entries without parameters may be functions. */
export class NamedSequential extends Module {
  private readonly steps: Array<{
    name: string;
    module?: Module & { forward(x: unknown): unknown };
    fn?: (x: unknown) => unknown;
    onnx?: (g: OnnxGraph, x: OnnxValue) => OnnxValue;
  }> = [];

  /** Add a module child (appears in the state dict under `name`). */
  addModule(name: string, m: Module & { forward(x: never): unknown }): this {
    this.registerModule(name, m);
    this.steps.push({ name, module: m as Module & { forward(x: unknown): unknown } });
    return this;
  }

  /**
   * Add a parameter-free step (e.g. `nn.Upsample`); it has no state-dict entry, like in PyTorch. `onnx`: the same
   * step written into an ONNX graph (without it the sequence cannot be exported).
   */
  addFunction(name: string, fn: (x: never) => unknown, onnx?: (g: OnnxGraph, x: OnnxValue) => OnnxValue): this {
    this.steps.push({ name, fn: fn as (x: unknown) => unknown, onnx });
    return this;
  }

  /** ONNX: the steps in order. */
  toOnnx(g: OnnxGraph, x: OnnxValue): OnnxValue {
    let y = x;
    for (const s of this.steps) {
      if (s.module) y = layerToOnnx(s.module, g, y, s.name);
      else if (s.onnx) y = g.scope(s.name, () => s.onnx!(g, y));
      else throw notExportable(this, s.name, `step ${s.name} has no ONNX form`);
    }
    return y;
  }

  /** Names of the steps in order. */
  get names(): string[] {
    return this.steps.map((s) => s.name);
  }

  forward<T>(x: T): T {
    let y: unknown = x;
    for (const s of this.steps) y = s.module ? s.module.forward(y) : s.fn!(y);
    return y as T;
  }
}
