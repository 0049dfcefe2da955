#!/usr/bin/env bash
# check.sh: the whole test suite, as the README's second command and CI run it.
#   1. release build with warnings as errors (gcc), all tests (ctest)
#   2. the AVX-512 / AMX kernels' tests on an emulated immintrin.h (tests/kernels/avx512_emu/run.sh)
#      and the AVX-VNNI kernel's with an AVX2 stand-in (tests/kernels/avxvnni_emu/run.sh), then
#      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. clang build (warning-free with both compilers) and a short libFuzzer run of the loader
#   4. aarch64 cross build run under qemu-user (scripts/cross-aarch64.sh)
# Usage: scripts/check.sh [--quick]   (--quick: step 1 only)
# Environment: TC_SHARED_DIR (default ../shared), JOBS (default 2), FUZZ_SEED (default 1) and
# FUZZ_RUNS (default 300000) for the libFuzzer run.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
SHARED=${TC_SHARED_DIR:-$(cd .. && pwd)/shared}
export TC_SHARED_DIR="$SHARED"
step() { printf '\n=== %s ===\n' "$*"; }

step "gcc release build (-Werror) + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTC_WERROR=ON -DTC_SHARED_DIR="$SHARED" >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure --no-tests=error -j"$JOBS"
scripts/install-test.sh build
cmake --build build --target benches -j"$JOBS"   # benchmark programs stay warning-free
[ "${1:-}" = "--quick" ] && exit 0

if [ "$(uname -m)" = x86_64 ]; then
  step "AVX-512 kernels (f32 GEMM, 8-bit VNNI and AMX GEMMs) on a scalar immintrin.h"
  sh tests/kernels/avx512_emu/run.sh build
  if grep -q -w avx2 /proc/cpuinfo; then
    step "AVX-VNNI 8-bit GEMM with an AVX2 stand-in for vpdpbusd"
    sh tests/kernels/avxvnni_emu/run.sh build
  fi
fi

step "ASan + UBSan build + tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTC_WERROR=ON -DTC_SANITIZE=ON \
  -DTC_SHARED_DIR="$SHARED" >/dev/null
cmake --build build-asan -j"$JOBS"
# allocator_may_return_null: a hostile model that plans tens of GiB of activations must meet a
# failed malloc (the library's "out of memory" error), as without ASan, not ASan's abort.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TC_ROBUST_ITERS=${TC_ROBUST_ITERS:-200} \
  ctest --test-dir build-asan --output-on-failure --no-tests=error -j"$JOBS"

if command -v clang >/dev/null; then
  step "clang build (-Werror) + libFuzzer smoke run of the model loader"
  CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTC_WERROR=ON -DTC_FUZZ=ON \
    -DTC_SHARED_DIR="$SHARED" >/dev/null
  cmake --build build-clang -j"$JOBS"
  corpus=$(mktemp -d)
  # (kws_ref_model_int8: int8 convolutions read in place, depthwise, pooling, softmax)
  for m in tflm/hello_world_float tflm/magic_wand tflm/simple_add_model coral/split_concat \
           coral/model_invoking_error tflite_support/dilated_conv seanet_int16/add0 \
           mlperf_tiny/kws_ref_model_int8; do
    cp "$SHARED/models/$m.tflite" "$corpus/"
  done
  # A fixed seed and run count make the smoke run repeatable: what fails in CI fails the same
  # way here. A unit over 60 s counts as a hang (libFuzzer's default waits 20 minutes).
  ./build-clang/fuzz_load -seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-300000}" -timeout=60 \
    -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -n 60
  rm -rf "$corpus"
else
  echo "clang not found: skipping the clang build and the fuzz smoke run" >&2
  exit 1
fi

# aarch64: cross build (NEON kernels) and the tests under qemu-user. CI installs the tools
# (.ci/run) and must run this step; a local machine without them skips it with a message.
if command -v aarch64-linux-gnu-gcc >/dev/null || [ -n "${CI:-}" ]; then
  step "aarch64 cross build + tests under qemu-aarch64 (NEON, then golden with TC_FORCE_REF=1)"
  JOBS="$JOBS" scripts/cross-aarch64.sh
else
  echo "aarch64-linux-gnu-gcc not found (and CI unset): skipping the aarch64 cross build;" \
    "apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user to run it" >&2
fi
step "all checks passed"
