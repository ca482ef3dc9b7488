// SPDX-License-Identifier: Apache-2.0
/**
 * `Compose`: a pipeline of transforms run in order (mmengine `Compose`). A transform returning `null` drops
 * the sample and ends the pipeline. Entries are built from configs through the registry scope `transforms`
 * (or given as transform objects). Browser-safe.
 */
import { DatasetError, type BuildContext, type RandomSource, type Transform } from '@solo-ts/core';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTransform = Transform<any, any>;

function isTransform(x: unknown): x is AnyTransform {
  return typeof x === 'object' && x !== null && typeof (x as AnyTransform).transform === 'function';
}

export class Compose {
  readonly transforms: AnyTransform[];

  constructor(transforms: readonly AnyTransform[]) {
    this.transforms = [...transforms];
  }

  /** Build from a list of configs (`{type, ...}`) or transform objects; `key` names the list in messages. */
  static build(entries: readonly unknown[] | null | undefined, ctx: BuildContext | undefined, key = 'pipeline'): Compose {
    const list = entries ?? [];
    if (!Array.isArray(list)) throw new DatasetError(`\`${key}\` must be a list of transforms`);
    return new Compose(
      list.map((e, i) => {
        if (isTransform(e)) return e;
        if (!ctx) throw new DatasetError(`\`${key}[${i}]\` is a config but no registry was given to build it`);
        return ctx.build<AnyTransform>('transforms', e, `${key}.${i}`);
      }),
    );
  }

  /** Run every transform; null when one dropped the sample. */
  async run<T = unknown>(results: unknown, rng?: RandomSource): Promise<T | null> {
    let r: unknown = results;
    for (const t of this.transforms) {
      r = await t.transform(r, rng);
      if (r === null || r === undefined) return null;
    }
    return r as T;
  }
}
