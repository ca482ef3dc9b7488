// SPDX-License-Identifier: Apache-2.0
/**
 * `ModuleList`: PyTorch `nn.ModuleList` / `nn.Sequential` naming for the heads' layer lists. Children are
 * registered under their index (`mask_convs.0.conv.weight`) or under an explicit name (`conv0`, as mmdet's
 * `nn.Sequential.add_module`), so state-dict keys match mmdetection's.
 */
import { Module } from '@solo-ts/core';

export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.append(m);
  }

  /** Append a child under the next index. */
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** `nn.Sequential` with named children (`conv0`, `upsample0`, ...); entries without parameters may be functions. */
export class NamedSequential extends Module {
  private readonly steps: Array<{ name: string; module?: Module & { forward(x: unknown): unknown }; fn?: (x: unknown) => unknown }> = [];

  /** Add a module child (appears in the state dict under `name`). */
  addModule(name: string, m: Module & { forward(x: never): unknown }): this {
    this.registerModule(name, m);
    this.steps.push({ name, module: m as Module & { forward(x: unknown): unknown } });
    return this;
  }

  /** Add a parameter-free step (e.g. `nn.Upsample`); it has no state-dict entry, like in PyTorch. */
  addFunction(name: string, fn: (x: never) => unknown): this {
    this.steps.push({ name, fn: fn as (x: unknown) => unknown });
    return this;
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
