#!/bin/sh
# peer_tflite.sh: runs a .tflite model with the official TensorFlow Lite interpreter (the
# WebAssembly build in ../shared/peers/tflite-ref, driven by Node.js) and writes its outputs.
#
#   peer_tflite.sh MODEL.tflite OUT_DIR [IN0.bin IN1.bin ...]
#
# Writes OUT_DIR/output_<i>.bin (raw little-endian) and OUT_DIR/meta.json. The peer is installed
# on first use into $TC_PEER_CACHE (default $HOME/.cache/tensorc-peers): the scripts are copied
# from the shared folder (read-only there) and `npm install` fetches @tensorflow/tfjs-tflite.
# Needs: node (>= 18) and npm. Exit status 3 means the peer could not be installed or run for a
# reason outside the model (no node, no npm, no network); any other non-zero status is the
# peer's own verdict on the model.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: peer_tflite.sh MODEL.tflite OUT_DIR [IN.bin ...]" >&2
  exit 2
fi
model=$1
out=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)
shared=${TC_SHARED_DIR:-$here/../../../shared}
cache=${TC_PEER_CACHE:-${HOME:-/tmp}/.cache/tensorc-peers}
peer=$cache/tflite-ref

if ! command -v node >/dev/null 2>&1; then
  echo "peer_tflite.sh: node is not installed (apt-get install -y nodejs npm)" >&2
  exit 3
fi
if [ ! -f "$peer/node_modules/@tensorflow/tfjs-tflite/package.json" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "peer_tflite.sh: npm is not installed (apt-get install -y npm)" >&2
    exit 3
  fi
  src=$shared/peers/tflite-ref
  if [ ! -f "$src/run.mjs" ]; then
    echo "peer_tflite.sh: $src/run.mjs not found (set TC_SHARED_DIR)" >&2
    exit 3
  fi
  mkdir -p "$peer"
  cp "$src"/*.mjs "$src"/package.json "$peer"/
  if ! (cd "$peer" && npm install --no-audit --no-fund >"$peer/npm-install.log" 2>&1); then
    echo "peer_tflite.sh: npm install failed in $peer (see npm-install.log)" >&2
    exit 3
  fi
fi

mkdir -p "$out"
exec node "$peer/run.mjs" "$model" "$@" --out "$out" --json
