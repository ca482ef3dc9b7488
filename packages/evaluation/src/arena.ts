// SPDX-License-Identifier: Apache-2.0
/**
 * Typed-array views carved out of large zero-filled chunks. COCOeval creates hundreds of thousands of small
 * per-image arrays; giving each its own ArrayBuffer makes V8's garbage collector track as many backing stores,
 * which costs more than the evaluation itself. Views of a few big buffers avoid that.
 */
const CHUNK = 1 << 20;

export class Arena {
  private f64 = new Float64Array(0);
  private f64Off = 0;
  private u8 = new Uint8Array(0);
  private u8Off = 0;

  /** A zero-filled Float64Array of n elements. */
  float64(n: number): Float64Array {
    if (this.f64Off + n > this.f64.length) {
      this.f64 = new Float64Array(Math.max(n, CHUNK));
      this.f64Off = 0;
    }
    const v = this.f64.subarray(this.f64Off, this.f64Off + n);
    this.f64Off += n;
    return v;
  }

  /** A zero-filled Uint8Array of n elements. */
  uint8(n: number): Uint8Array {
    if (this.u8Off + n > this.u8.length) {
      this.u8 = new Uint8Array(Math.max(n, CHUNK));
      this.u8Off = 0;
    }
    const v = this.u8.subarray(this.u8Off, this.u8Off + n);
    this.u8Off += n;
    return v;
  }
}
