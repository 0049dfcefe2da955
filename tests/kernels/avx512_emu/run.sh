#!/bin/sh
# run.sh: checks the AVX-512 kernels (f32 GEMM, 8-bit VNNI and AMX GEMM, 8-bit and f32 depthwise,
# f32 Winograd transforms) on a CPU without AVX-512. It compiles src/kernels/x86/
# gemm_f32_avx512.c, s8_qgemm_avx512vnni.c, s8_qgemm_amx.c, dwconv_q8_avx512.c,
# dwconv_q8_avx512vnni.c, dwconv_f32_avx512.c and fwino_avx512.c against the scalar immintrin.h
# of this folder, links them ahead of the library (so they replace the real variants), counts
# them as supported next to the variants this CPU runs, and runs the f32 GEMM and f32
# convolution tests (segmented form, direct and im2col paths, Winograd on the AVX-512 GEMM and
# with the AVX-512 transforms), the bit-exact 8-bit GEMM / convolution tests and the depthwise
# tests (test_fastdw.c, test_dw_ring.c: every variant against the reference, 8-bit bit-exact,
# float within FMA rounding). Usage: tests/kernels/avx512_emu/run.sh BUILD_DIR
# Environment: EMU_TESTS (test name prefixes, default: all of the above), EMU_SAN=1 (compile the
# emulated kernels and the tests with AddressSanitizer + UBSan).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../emu_common.sh"
cflags=$(emu_cflags -O1)
gcc $cflags -I"$here" -D__AVX512F__ -w -c "$root/src/kernels/x86/gemm_f32_avx512.c" -o "$tmp/k.o"
gcc $cflags -I"$here" -D__AVX512F__ -D__AVX512VNNI__ -w \
  -c "$root/src/kernels/x86/s8_qgemm_avx512vnni.c" -o "$tmp/q.o"
gcc $cflags -I"$here" -D__AVX512F__ -D__AVX512VNNI__ -D__AMX_TILE__ -D__AMX_INT8__ -w \
  -c "$root/src/kernels/x86/s8_qgemm_amx.c" -o "$tmp/x.o"
# (AI without always_inline: the template's forced inlining of scalar stand-ins takes minutes)
gcc $cflags -I"$here" -D__AVX512F__ -D__AVX512BW__ -D__AVX512DQ__ -D__AVX512VL__ -w \
  -DAI='static inline' -c "$root/src/kernels/x86/dwconv_q8_avx512.c" -o "$tmp/dq.o"
gcc $cflags -I"$here" -D__AVX512F__ -D__AVX512BW__ -D__AVX512VL__ -D__AVX512VNNI__ -w \
  -DAI='static inline' -c "$root/src/kernels/x86/dwconv_q8_avx512vnni.c" -o "$tmp/dv.o"
gcc $cflags -I"$here" -D__AVX512F__ -D__AVX512BW__ -D__AVX512DQ__ -D__AVX512VL__ -w \
  -DFAI='static inline' -c "$root/src/kernels/x86/dwconv_f32_avx512.c" -o "$tmp/df.o"
gcc $cflags -I"$here" -D__AVX512F__ -w -c "$root/src/kernels/x86/fwino_avx512.c" -o "$tmp/fw.o"
# supported: the variants emulated here (isa avx512, avx512vnni, amx) and what this CPU runs
cat > "$tmp/sup.c" <<'EOF'
#include <string.h>
#include "kernels/select.h"
int emu_supported(const tc_kernel_variant *v) {
  return !strcmp(v->isa, "avx512") || !strcmp(v->isa, "avx512vnni") || !strcmp(v->isa, "amx") ||
         tc_kernel_variant_supported(v);
}
EOF
gcc $cflags -c "$tmp/sup.c" -o "$tmp/sup.o"
for t in test_gemm test_conv_f32 test_fwino test_qgemm_vnni test_qconv_fast test_fastdw test_dw_ring; do
  gcc $cflags -DTC_SHARED_DIR='"."' -DTC_CLI_PATH='"."' -Dtc_kernel_variant_supported=emu_supported \
    -c "$root/tests/kernels/$t.c" -o "$tmp/$t.o"
done
gcc $cflags -DTC_SHARED_DIR='"."' -c "$root/tests/main.c" -o "$tmp/main.o"
gcc "$tmp/k.o" "$tmp/q.o" "$tmp/x.o" "$tmp/dq.o" "$tmp/dv.o" "$tmp/df.o" "$tmp/fw.o" "$tmp/sup.o" "$tmp/test_gemm.o" "$tmp/test_conv_f32.o" \
  "$tmp/test_fwino.o" "$tmp/test_qgemm_vnni.o" "$tmp/test_qconv_fast.o" "$tmp/test_fastdw.o" \
  "$tmp/test_dw_ring.o" "$tmp/main.o" "$build/libtensorc.a" $san -lpthread -lm -o "$tmp/emu"
if objdump -d "$tmp/emu" | grep -q -E "zmm|tmm"; then echo "run.sh: real AVX-512 code linked in" >&2; exit 1; fi
# Model level: the golden cases with dispatch choosing the emulated kernels (cpu_stub.inc
# replaces cpu.c): int8 / uint8 CONV_2D and FULLY_CONNECTED on AMX / VNNI, DEPTHWISE_CONV_2D on
# dwconv_q8_avx512vnni, float CONV_2D / FULLY_CONNECTED on the f32 AVX-512 GEMM, end to end.
shared=${TC_SHARED_DIR:-$root/../shared}
if [ -z "${EMU_TESTS:-}" ] && [ -f "$shared/models/golden/cases.tsv" ]; then
  gcc $cflags -x c -c "$here/cpu_stub.inc" -o "$tmp/cpu_stub.o"
  gcc $cflags -DTC_SHARED_DIR='"."' -c "$root/tests/lite/test_golden.c" -o "$tmp/golden.o"
  gcc "$tmp/k.o" "$tmp/q.o" "$tmp/x.o" "$tmp/dq.o" "$tmp/dv.o" "$tmp/df.o" "$tmp/fw.o" "$tmp/cpu_stub.o" "$tmp/golden.o" "$tmp/main.o" "$build/libtensorc.a" \
    $san -lpthread -lm -o "$tmp/emu_golden"
  if objdump -d "$tmp/emu_golden" | grep -q -E "zmm|tmm"; then echo "run.sh: real AVX-512 code" >&2; exit 1; fi
  TC_SHARED_DIR="$shared" TC_FORCE_REF= "$tmp/emu_golden" golden_cases
fi
"$tmp/emu" ${EMU_TESTS:-kernel_gemm_variants kernel_gemm_plain kernel_gemm_threads kernel_gemm_nan kernel_gemm_packed kernel_gemm_k_chunks \
  kernel_conv_f32 kernel_fwino kernel_qgemm_vnni kernel_qconv_fast kernel_fastdw kernel_dw_ring}
