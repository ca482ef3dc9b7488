// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch's CPU random permutation, reproduced exactly: `torch.randperm(n, generator=g)` with
 * `g = torch.Generator().manual_seed(seed)` (torch 1.13). The generator is a 32-bit Mersenne Twister (mt19937)
 * seeded with the low 32 bits of the seed; randperm is a forward Fisher-Yates swap with
 * `z = random() % (n - i)`. mmengine's `DefaultSampler` shuffles with this at `seed + epoch`, so a solo-ts run
 * visits the images in the same order as an mmdetection run with the same seed (verified against torch 1.13).
 * Browser-safe.
 */

/** The standard 32-bit Mersenne Twister (MT19937). */
export class MT19937 {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number | bigint) {
    const s = typeof seed === 'bigint' ? Number(seed & 0xffffffffn) : Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    this.mt[0] = s >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      let v = mt[(i + 397) % 624] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.index = 0;
  }

  /** Next 32-bit output. */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/** `torch.randperm(n, generator=torch.Generator().manual_seed(seed))` (CPU, torch 1.13). */
export function torchRandperm(n: number, seed: number | bigint | MT19937): number[] {
  const g = seed instanceof MT19937 ? seed : new MT19937(seed);
  const r = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = g.nextUint32() % (n - i);
    const t = r[i];
    r[i] = r[z + i];
    r[z + i] = t;
  }
  return r;
}
