#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data-parallel throughput on this host (docs/training.md "Measured"): the demo config on data/shapes,
# train_dataloader.batch_size B per rank, ITERS iterations each of
#   1. one process (`solo train`),
#   2. two worker threads of one process (`solo train --workers 2`),
#   3. two MPI processes (`tools/dist_train.sh CONFIG 2`),
# and the gradient reduction alone (tools/bench_collective.mjs: shared memory, MPI with ordered sums, MPI_Allreduce),
# then prints, per run, images/s (global batch / median iteration time, the first WARMUP iterations left out) and the
# median time per step spent in gradient / parameter communication (`sync_time` of the scalar log: the collective
# operations, waiting for the slowest rank included).
#
#   tools/bench_dist.sh                   # after `npm run build`; data/shapes from `solo make-shapes` (see README)
#   ITERS=20 B=4 tools/bench_dist.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CONFIG=${CONFIG:-configs/demo/solov2-light_r18_shapes.yaml}
ITERS=${ITERS:-12}
WARMUP=${WARMUP:-2}
B=${B:-8}
OUT=${OUT:-$(mktemp -d /tmp/solo-bench-dist-XXXX)}
SOLO=(node packages/cli/bin/solo.js)
COMMON=(--max-iters "$ITERS" --no-validate --cfg-options "train_dataloader.batch_size=$B" default_hooks.checkpoint.interval=100000)
if [ -z "${SKIP_TRAIN:-}" ]; then   # SKIP_TRAIN=1 OUT=DIR: summarise the runs already in DIR
  "${SOLO[@]}" train "$CONFIG" --work-dir "$OUT/one" "${COMMON[@]}" > "$OUT/one.log" 2>&1
  "${SOLO[@]}" train "$CONFIG" --work-dir "$OUT/threads" --workers 2 "${COMMON[@]}" > "$OUT/threads.log" 2>&1
  tools/dist_train.sh "$CONFIG" 2 --work-dir "$OUT/mpi" "${COMMON[@]}" > "$OUT/mpi.log" 2>&1
fi
MPI=(mpirun -np 2)
if mpirun --version 2>&1 | grep -q "Open MPI"; then MPI+=(--oversubscribe --bind-to none); [ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root); fi
node tools/bench_collective.mjs shm
"${MPI[@]}" node tools/bench_collective.mjs mpi
SOLO_MPI_ALLREDUCE=native "${MPI[@]}" node tools/bench_collective.mjs mpi
node - "$OUT" "$B" "$WARMUP" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [out, b, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN; };
console.log(`${require('node:os').cpus().length} CPU(s), batch ${b} per rank, medians after ${warmup} warm-up iterations (${out})`);
for (const [name, ranks] of [['one', 1], ['threads', 2], ['mpi', 2]]) {
  const dir = fs.readdirSync(path.join(out, name)).find((d) => /^\d{8}_\d{6}$/.test(d));
  const rows = fs.readFileSync(path.join(out, name, dir, 'vis_data', 'scalars.json'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => typeof r.time === 'number').slice(warmup);
  const t = median(rows.map((r) => r.time));
  const sync = rows.some((r) => r.sync_time !== undefined) ? `${(median(rows.map((r) => r.sync_time)) * 1000).toFixed(0)} ms` : '-';
  console.log(`${name.padEnd(8)} ranks ${ranks}  ${((b * ranks) / t).toFixed(2).padStart(6)} images/s  ${t.toFixed(3)} s/iteration  communication ${sync}/step`);
}
JS
