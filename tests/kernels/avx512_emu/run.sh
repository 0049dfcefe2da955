#!/bin/sh
# run.sh: checks the AVX-512 GEMM microkernel on a CPU without AVX-512. It compiles
# src/kernels/x86/gemm_f32_avx512.c against the scalar immintrin.h of this folder, links it
# ahead of the library (so it replaces the real variant), treats every kernels.def variant as
# supported, and runs the GEMM tests. Usage: tests/kernels/avx512_emu/run.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR (a configured build with libtensorc.a)}
cmake --build "$build" --target tensorc_static >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-O1 -std=c11 -D_GNU_SOURCE -I$root/src -I$root/include -I$root/tests"
gcc $cflags -I"$here" -D__AVX512F__ -w -c "$root/src/kernels/x86/gemm_f32_avx512.c" -o "$tmp/k.o"
printf 'struct tc_kernel_variant;\nint emu_supported(const struct tc_kernel_variant *v) { (void)v; return 1; }\n' > "$tmp/sup.c"
gcc -c "$tmp/sup.c" -o "$tmp/sup.o"
gcc $cflags -DTC_SHARED_DIR='"."' -DTC_CLI_PATH='"."' -Dtc_kernel_variant_supported=emu_supported \
  -c "$root/tests/kernels/test_gemm.c" -o "$tmp/t.o"
gcc $cflags -DTC_SHARED_DIR='"."' -c "$root/tests/main.c" -o "$tmp/main.o"
gcc "$tmp/k.o" "$tmp/sup.o" "$tmp/t.o" "$tmp/main.o" "$build/libtensorc.a" -lpthread -lm -o "$tmp/emu"
if objdump -d "$tmp/emu" | grep -q zmm; then echo "run.sh: real AVX-512 code linked in" >&2; exit 1; fi
"$tmp/emu" kernel_gemm_variants kernel_gemm_plain kernel_gemm_threads kernel_gemm_nan kernel_gemm_packed kernel_gemm_k_chunks
