#!/usr/bin/env bash
# devpack.sh: gathers into ./devpack what bench/device_issue4.sh needs on a lent device machine,
# where ../shared does not travel with the working tree: the shared models folder (models and
# golden cases, ~21 MiB) and the peers' ONNX graphs and input bytes that a bench_peers.sh run left
# in its work folder (~25 MiB), ~46 MiB in all (the device tool carries at most 64 MiB with the
# tree). If the bench_peers.sh install built the ONNX Runtime C API harness (ort_bench), it and its
# libonnxruntime.so.1 (xz-compressed, ~13 MiB) come too, so the device compares against native
# ORT without Python in the timed call. devpack/ is ignored by git; name it in the device call's
# `carry`.
#
#   bench/devpack.sh [PEERS_WORK [SHARED]]     defaults: /tmp/tc-bench-peers, ../shared
#
# With TC_DEVPACK_BASE=COMMIT the source tree of that commit comes too (devpack/base-src.tar.gz,
# ~0.7 MiB), for bench/device_ab.sh to time it against the working tree on the device.
#
# PEERS_WORK must hold <model>/peers/ from `bench/bench_peers.sh` (run it once with its install
# step first). Models without that folder are left out of the ORT comparison only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/tc-bench-peers}
shared=${2:-$root/../shared}
dst=$root/devpack
[ -d "$shared/models" ] || { echo "devpack.sh: no models folder in $shared" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst/shared" "$dst/peers"
cp -r "$shared/models" "$dst/shared/models"
n=0
for d in "$work"/*/peers; do
  [ -d "$d" ] || continue
  m=$(basename "$(dirname "$d")")
  mkdir -p "$dst/peers/$m/peers/tflite"
  cp "$d"/*.onnx "$d"/float_input_0.bin "$dst/peers/$m/peers/" 2>/dev/null || true
  cp "$d/tflite/input_0.bin" "$dst/peers/$m/peers/tflite/" 2>/dev/null || true
  n=$((n + 1))
done
ort=$work/shared/peers/ort-ref
lib=$ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
if [ -x "$ort/build/ort_bench" ] && [ -f "$lib" ]; then
  mkdir -p "$dst/ort"
  cp "$ort/build/ort_bench" "$dst/ort/"
  xz -T0 -6 -c "$lib" > "$dst/ort/libonnxruntime.so.1.xz"
fi
if [ -n "${TC_DEVPACK_BASE:-}" ]; then
  git -C "$root" archive --format=tar.gz -o "$dst/base-src.tar.gz" "$TC_DEVPACK_BASE"
  git -C "$root" rev-parse --short "$TC_DEVPACK_BASE" > "$dst/base-commit"
fi
echo "devpack: $(du -sh "$dst" | cut -f1) in $dst (models from $shared, $n peer folders from $work)"
