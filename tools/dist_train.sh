#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Distributed data-parallel training on this host (mmdetection's tools/dist_train.sh):
#
#   tools/dist_train.sh CONFIG N [solo train options...]
#
# starts N processes through mpirun, each `solo train CONFIG --launcher mpi ...` (one rank: batch_size per rank,
# WebAssembly threads = cores / N, rank 0 writes logs and checkpoints; docs/training.md "Distributed training").
# Needs an MPI launcher: Debian/Ubuntu `apt-get install openmpi-bin libopenmpi-dev` (or `mpich`).
#
# Environment: MPIRUN (default mpirun), MPIRUN_ARGS (extra launcher arguments, e.g. `--hostfile hosts` for several
# hosts: see docs/training.md), SOLO (the command of one rank; default: this checkout's built CLI,
# `node packages/cli/bin/solo.js`; run `npm run build` first).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NUM_PROCESSES [solo train options...]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MPIRUN=${MPIRUN:-mpirun}
if ! command -v "$MPIRUN" > /dev/null; then
  echo "error: $MPIRUN not found; install MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev, or mpich)" >&2
  exit 1
fi
read -r -a SOLO_CMD <<< "${SOLO:-node $ROOT/packages/cli/bin/solo.js}"
read -r -a EXTRA <<< "${MPIRUN_ARGS:-}"
ARGS=(-np "$NPROC")
if "$MPIRUN" --version 2>&1 | grep -q "Open MPI"; then
  # one host, more ranks than cores is fine; root (containers) must be allowed explicitly
  ARGS+=(--oversubscribe --bind-to none)
  if [ "$(id -u)" = 0 ]; then ARGS+=(--allow-run-as-root); fi
fi
exec "$MPIRUN" "${ARGS[@]}" "${EXTRA[@]}" "${SOLO_CMD[@]}" train "$CONFIG" --launcher mpi "$@"
