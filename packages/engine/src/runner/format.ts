// SPDX-License-Identifier: Apache-2.0
/** Log line formatting in mmengine's style; `digits` is `log_processor.num_digits` (mmengine's `LogProcessor`). */

/** Digits of logged values when `log_processor.num_digits` is not set (mmengine's default). */
export const DEFAULT_NUM_DIGITS = 4;

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--:--';
  const s = Math.round(seconds);
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return days > 0 ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
}

export function fmtNum(v: number, digits = DEFAULT_NUM_DIGITS): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits);
  return v.toFixed(digits);
}

/** `Epoch(train)  [1][ 50/500]  lr: 1.0000e-02  eta: 0:12:01  time: 0.4123  data_time: 0.0100  memory: 512  loss: ...` */
export function formatTrainLine(r: {
  epoch: number;
  maxEpochs: number;
  innerIter: number;
  itersPerEpoch: number;
  lr: number;
  eta: number;
  time: number;
  dataTime: number;
  memoryMb: number;
  losses: Record<string, number>;
  gradNorm?: number;
}, digits = DEFAULT_NUM_DIGITS): string {
  const w = String(r.itersPerEpoch).length;
  const parts = [
    `Epoch(train) [${r.epoch}/${r.maxEpochs}][${String(r.innerIter).padStart(w)}/${r.itersPerEpoch}]`,
    `lr: ${r.lr.toExponential(digits)}`,
    `eta: ${formatEta(r.eta)}`,
    `time: ${r.time.toFixed(digits)}`,
    `data_time: ${r.dataTime.toFixed(digits)}`,
    `memory: ${Math.round(r.memoryMb)}`,
  ];
  if (r.gradNorm !== undefined) parts.push(`grad_norm: ${fmtNum(r.gradNorm, digits)}`);
  for (const [k, v] of Object.entries(r.losses)) parts.push(`${k}: ${fmtNum(v, digits)}`);
  return parts.join('  ');
}
