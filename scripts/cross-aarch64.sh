#!/usr/bin/env bash
# cross-aarch64.sh: cross-compiles tensorc for aarch64 Linux (cmake/aarch64-linux-gnu.cmake,
# Debian's gcc-aarch64-linux-gnu + libc6-dev-arm64-cross) into build-aarch64 and runs the test
# runner under qemu user-mode emulation (qemu-user): the NEON kernel variants are selected there
# (qemu's default "max" CPU reports asimd, asimddp and i8mm), and the golden models run a second
# time with TC_FORCE_REF=1. Installs nothing. Exits non-zero on a build or test failure.
# Usage: scripts/cross-aarch64.sh [AREA ...]   (default: the areas below; a test name prefix each)
# Environment: TC_SHARED_DIR (default ../shared), JOBS (default 2), QEMU (default qemu-aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
SHARED=${TC_SHARED_DIR:-$(cd .. && pwd)/shared}
QEMU=${QEMU:-qemu-aarch64}
SYSROOT=/usr/aarch64-linux-gnu
# Emulation runs code about 5-20x slower than native. Measured under qemu on the 2-core dev
# machine: kernel ~20 s, golden ~70 s per thread count (dispatched: 1 and 2 threads; reference:
# 1), train ~15 s, the rest ~3 s. Left to the native runs: robust (fuzz-style loops), cli
# (spawns the CLI) and export (~120 s here: the quantizer and peer checks are plain C,
# identical on every target).
if [ $# -gt 0 ]; then AREAS=("$@"); else
  AREAS=(core model planner api kernel golden train data)
fi

for tool in aarch64-linux-gnu-gcc "$QEMU"; do
  command -v "$tool" >/dev/null || { echo "cross-aarch64.sh: $tool not found" >&2; exit 2; }
done

# No loop vectoriser: Debian 12's aarch64-linux-gnu-gcc 12.2 stops with an internal compiler
# error (vect_transform_reduction) on a loop like `for (k < 640) w = fmax(w, fabs(x[k] - y[k]))`
# with w a double, even at -O2, and the tests have such loops. The NEON kernels use intrinsics
# and do not depend on it.
cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -fno-tree-loop-vectorize -DNDEBUG" \
  -DTC_WERROR=ON \
  -DTC_WITH_IMAGES=OFF -DTC_SHARED_DIR="$SHARED" >/dev/null
cmake --build build-aarch64 -j"$JOBS" --target tc-test tensorc
aarch64-linux-gnu-readelf -h build-aarch64/tc-test | grep -q AArch64 ||
  { echo "cross-aarch64.sh: build-aarch64/tc-test is not an aarch64 binary" >&2; exit 1; }

run() { # run LABEL ENV... -- AREAS...
  local label=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  printf '\n--- qemu-aarch64: %s: %s ---\n' "$label" "$*"
  local t0=$SECONDS rc=0
  env TC_SHARED_DIR="$SHARED" "${envs[@]}" "$QEMU" -L "$SYSROOT" build-aarch64/tc-test "$@" || rc=$?
  printf -- '--- %s: %d s, exit status %d ---\n' "$label" $((SECONDS - t0)) "$rc"
  [ "$rc" -eq 0 ] || failed=1
}
failed=0
run "dispatched kernels" -- "${AREAS[@]}"
# The golden models once more on the reference kernels only (1 thread: the dispatched run above
# covers the 2-thread splits).
for a in "${AREAS[@]}"; do
  if [ "$a" = golden ] || [ "${a#golden}" != "$a" ]; then
    run "reference kernels (TC_FORCE_REF=1)" TC_FORCE_REF=1 TC_GOLDEN_THREADS=1 -- "$a"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "cross-aarch64: FAILED (see the runs above)" >&2
  exit 1
fi
echo "cross-aarch64: all passed"
