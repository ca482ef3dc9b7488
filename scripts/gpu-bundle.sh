#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prepares the folder to carry to a GPU machine that has no package registry (e.g. an H100 server with PyTorch):
# scripts/gpu-bench.sh runs from it. Needs a built checkout (npm run build), esbuild (installed with the dev
# dependencies), the golden data beside the checkout (../shared), and the Vulkan loader of this machine
# (Debian: libvulkan1).
#
#   scripts/gpu-bundle.sh [OUT_DIR] [--with-node]      (default OUT_DIR: work_dirs/gpu-bundle)
#
# Contents (about 25 MiB, 50 with Node; 64 MiB at most; files over 3 MiB xz-compressed): solo.mjs (the CLI, one esbuild bundle with tfjs and
# tfjs-backend-webgpu), gpu-parity.mjs, node_modules/webgpu (Dawn: index.js + dist/linux-x64/dawn.node + its two
# small dependencies), lib/libvulkan.so.1 (used only where the GPU machine has none), configs/, the SOLOv2-light R18
# goldens (shared/), PyTorch's reference (reference/solo_torch.py + gpu-bench-torch.py), gpu-bench.sh, and with
# --with-node this machine's node binary (node/bin/node.xz, ~24 MiB; for a GPU machine without Node >= 20).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=work_dirs/gpu-bundle
WITH_NODE=0
for a in "$@"; do
  case "$a" in
    --with-node) WITH_NODE=1 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) OUT="$a" ;;
  esac
done
SHARED=${SOLO_TS_SHARED:-../shared}
VARIANT=solov2-light_r18_fpn_ms-3x_coco
[ -f packages/cli/dist/main.js ] || { echo "run npm run build first" >&2; exit 1; }
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "node_modules/webgpu is missing (npm ci installs it: optional dependency of @solo-ts/backends)" >&2; exit 1; }
[ -d "$SHARED/parity/$VARIANT" ] || { echo "golden data not found in $SHARED (set SOLO_TS_SHARED)" >&2; exit 1; }
VK=$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ && !v {v = $NF} END {print v}')
[ -n "$VK" ] || { echo "no libvulkan.so.1 here: apt-get install libvulkan1" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/node_modules" "$OUT/shared/parity" "$OUT/shared/coco-conformance" "$OUT/reference"
ESBUILD=node_modules/.bin/esbuild
# One ESM bundle per entry; Dawn's native binding stays a package beside it (external); the optional tfjs-node /
# wasm backends are loaded by computed specifiers, so they are not bundled (the GPU run does not use them).
BANNER="import { createRequire as __solo_cr } from 'node:module'; const require = __solo_cr(import.meta.url);"
common=(--bundle --platform=node --format=esm --target=node20 --external:webgpu --external:sharp --log-level=warning
  --minify-whitespace --minify-syntax
  --conditions=source --main-fields=module,main "--banner:js=$BANNER")
"$ESBUILD" packages/cli/src/main.ts "${common[@]}" --outfile="$OUT/cli-main.mjs"
cat > "$OUT/solo.mjs" <<'EOF'
// The `solo` command of the GPU bundle (scripts/gpu-bundle.sh).
const cli = await import('./cli-main.mjs');
process.exitCode = await cli.main(process.argv);
EOF
"$ESBUILD" scripts/gpu-parity.ts "${common[@]}" --outfile="$OUT/gpu-parity.mjs"

# Dawn (the `webgpu` package) and what its index.js imports
mkdir -p "$OUT/node_modules/webgpu/dist/linux-x64"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md "$OUT/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$OUT/node_modules/webgpu/dist/linux-x64/"
for dep in debug ms; do
  src=node_modules/webgpu/node_modules/$dep
  [ -d "$src" ] || src=node_modules/$dep
  [ -d "$src" ] && cp -r "$src" "$OUT/node_modules/$dep"
done
# sharp (image decoding, statically imported by the data pipeline and drawing) with its linux-x64 libvips
for p in sharp @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 detect-libc semver; do
  if [ -d "node_modules/$p" ]; then mkdir -p "$OUT/node_modules/$(dirname "$p")"; cp -r "node_modules/$p" "$OUT/node_modules/$p"; fi
done
cp -L "$VK" "$OUT/lib/libvulkan.so.1"

cp -r configs "$OUT/configs"
cp "$SHARED/parity/manifest.json" "$OUT/shared/parity/"
cp "$SHARED/coco-conformance/README.md" "$OUT/shared/coco-conformance/"
cp -r "$SHARED/parity/$VARIANT" "$OUT/shared/parity/$VARIANT"
cp "$SHARED/reference/solo_torch.py" "$OUT/reference/"
cp scripts/gpu-bench-torch.py scripts/gpu-bench.sh "$OUT/"
chmod +x "$OUT/gpu-bench.sh"
if [ "$WITH_NODE" = 1 ]; then
  mkdir -p "$OUT/node/bin"
  xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$OUT/node/bin/node.xz"
  echo "node $(node --version) added as node/bin/node.xz (gpu-bench.sh unpacks it when the machine has no node)"
fi
# large binaries travel xz-compressed (gpu-bench.sh unpacks every *.xz beside itself on first run)
find "$OUT" -type f -size +3M ! -name '*.xz' ! -name '*.mjs' -print0 | while IFS= read -r -d '' f; do xz -T0 -6 "$f"; done
du -sh "$OUT"
total=$(du -sb "$OUT" | cut -f1)
if [ "$total" -gt $((64 * 1024 * 1024)) ]; then echo "warning: the bundle is over 64 MiB" >&2; fi
echo "bundle ready: $OUT (run: $OUT/gpu-bench.sh)"
