#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# solo-ts on a GPU through WebGPU (Dawn on Vulkan), next to PyTorch CUDA fp32 on the same GPU, networks and batches.
# Runs from the folder scripts/gpu-bundle.sh prepares (no package registry needed on the GPU machine):
#
#   ./gpu-bench.sh            # everything (~5 minutes on a datacenter GPU)
#   QUICK=1 ./gpu-bench.sh    # tiny sizes, 1 iteration (a smoke test; with SOLO_WEBGPU_SWIFTSHADER=1 on a CPU:
#                             # ~15 minutes on 2 cores, every shader runs on the CPU)
#
# Prints: the Vulkan driver and WebGPU adapter, the parity check on the GPU (SOLOv2-light R18 goldens: predictions,
# losses, gradient norms), `solo bench` inference of SOLOv2 R50 @800x1333 and SOLOv2-light R18 @448x768, the
# training step of SOLOv2 R50 (batch 2 @800x1333) and of the demo model (batch 8 @120x160), then the PyTorch
# reference (gpu-bench-torch.py; skipped when python3 has no torch with CUDA). Logs go to ./gpu-bench-logs/.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
cd "$DIR"
LOG="$DIR/gpu-bench-logs"
mkdir -p "$LOG"

# Large binaries travel xz-compressed: unpack each once (dawn.node, libvips, node).
find "$DIR" -type f -name '*.xz' | while read -r f; do
  [ -e "${f%.xz}" ] || { xz -dkc "$f" > "${f%.xz}.part" && mv "${f%.xz}.part" "${f%.xz}"; }
done
[ -f "$DIR/node/bin/node" ] && chmod +x "$DIR/node/bin/node"

# Node: the machine's (>= 20), else the one brought along (make the bundle with --with-node).
NODE=""
if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  NODE=$(command -v node)
elif [ -x "$DIR/node/bin/node" ]; then
  NODE="$DIR/node/bin/node"
fi
[ -n "$NODE" ] || { echo "no Node >= 20 here and none in $DIR/node/bin (make the bundle with --with-node)"; exit 1; }
echo "== node $("$NODE" --version) ($NODE)"

# Vulkan: the system loader if there is one, else the one brought along. The driver's ICD is the system's
# (NVIDIA: /usr/share/vulkan/icd.d/nvidia_icd.json, or /etc/vulkan/icd.d/) unless VK_ICD_FILENAMES says otherwise.
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  export LD_LIBRARY_PATH="$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "== Vulkan loader: $DIR/lib/libvulkan.so.1 (none on the system)"
fi
# NVIDIA driver without its ICD manifest (some server installs / containers): point Vulkan at libGLX_nvidia.so.0.
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ "${SOLO_WEBGPU_SWIFTSHADER:-0}" = 0 ] \
  && ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  GLX=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ && !v {v = $NF} END {print v}')
  if [ -n "$GLX" ]; then
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$GLX" > "$DIR/nvidia_icd.json"
    export VK_ICD_FILENAMES="$DIR/nvidia_icd.json"
    echo "== no NVIDIA Vulkan ICD manifest found: using $GLX through $DIR/nvidia_icd.json"
  fi
fi
if [ -n "${VK_ICD_FILENAMES:-}" ]; then echo "== Vulkan ICD (VK_ICD_FILENAMES): $VK_ICD_FILENAMES"
elif [ "${SOLO_WEBGPU_SWIFTSHADER:-0}" != 0 ]; then echo "== Vulkan ICD: SwiftShader (SOLO_WEBGPU_SWIFTSHADER; software, for correctness only)"
else echo "== Vulkan ICDs on the system: $(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')"; fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export SOLO_TS_SHARED="$DIR/shared"

SOLO=("$NODE" "$DIR/solo.mjs")
if [ "${QUICK:-0}" = 1 ]; then
  R50=96x128; LIGHT=96x128; R50T=64x96; DEMO=64x96; IT=(--warmup 0 --iters 1); DB=2
else
  R50=800x1333; LIGHT=448x768; R50T=800x1333; DEMO=120x160; IT=(--warmup 3 --iters 10); DB=8
fi
status=0
run() { # label, log name, command...
  local label=$1 name=$2; shift 2
  echo; echo "== $label"
  local t0=$SECONDS
  "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  grep -v '^\s*$' "$LOG/$name.log" | tail -n "${TAIL:-25}"
  echo "-- exit $rc, $((SECONDS - t0)) s (full log: $LOG/$name.log)"
  [ $rc = 0 ] || status=1
}

run "WebGPU adapter + parity on the GPU (SOLOv2-light R18 goldens)" parity "$NODE" "$DIR/gpu-parity.mjs" "$DIR/shared/parity/solov2-light_r18_fpn_ms-3x_coco"
B=(--backend webgpu bench --no-peak --no-flops --verbose "${IT[@]}")
if [ "${QUICK:-0}" = 1 ]; then
  echo; echo "== QUICK: SOLOv2 R50 and R18 runs skipped (their heads are tens of GFLOP per forward at any input size: minutes on a software GPU)"
else
run "solo bench: SOLOv2 R50 inference @$R50" infer-r50 "${SOLO[@]}" "${B[@]}" --candidates 500 configs/solov2/solov2_r50_fpn_1x_coco.yaml --shape "$R50"
run "solo bench: SOLOv2-light R18 inference @$LIGHT" infer-r18 "${SOLO[@]}" "${B[@]}" --candidates 500 configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml --shape "$LIGHT"
run "solo bench: SOLOv2 R50 training step, batch 2 @$R50T" train-r50 "${SOLO[@]}" "${B[@]}" --mode train --batch 2 configs/solov2/solov2_r50_fpn_1x_coco.yaml --shape "$R50T"
fi
run "solo bench: demo model training step, batch $DB @$DEMO" train-demo "${SOLO[@]}" "${B[@]}" --mode train --batch "$DB" configs/demo/solov2-light_r18_shapes.yaml --shape "$DEMO"

echo; echo "== PyTorch CUDA fp32 reference (same networks, inputs and batches; loss = sum of outputs)"
if command -v python3 >/dev/null && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  if [ "${QUICK:-0}" = 1 ]; then TARGS=(--warmup 1 --iters 1); else TARGS=(--warmup 3 --iters 10); fi
  python3 "$DIR/gpu-bench-torch.py" --reference "$DIR/reference" "${TARGS[@]}" 2>&1 | tee "$LOG/torch.log"
else
  echo "skipped: python3 with a CUDA torch not found"
fi
echo; echo "== done (exit $status); logs in $LOG"
exit $status
