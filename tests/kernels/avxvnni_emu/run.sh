#!/bin/sh
# run.sh: checks the AVX-VNNI 8-bit GEMM (src/kernels/x86/s8_qgemm_avxvnni.c) on a CPU without
# AVX-VNNI. It compiles that file with -mavx2 -mfma and shim.h, an exact AVX2 stand-in for its
# one AVX-VNNI instruction, links it ahead of the library (so it replaces the real variant),
# marks it supported next to what this CPU runs, and runs the bit-exact 8-bit GEMM and
# convolution tests on it; then the golden cases with dispatch choosing it (cpu_stub.inc
# replaces cpu.c). Needs an AVX2 CPU. Usage: tests/kernels/avxvnni_emu/run.sh BUILD_DIR
# Environment: EMU_SAN=1 compiles the kernel and the tests with AddressSanitizer + UBSan.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../emu_common.sh"
cflags=$(emu_cflags -O2)
gcc $cflags -mavx2 -mfma -include "$here/shim.h" -c "$root/src/kernels/x86/s8_qgemm_avxvnni.c" \
  -o "$tmp/v.o"
cat > "$tmp/sup.c" <<'C'
#include <string.h>
#include "kernels/select.h"
int emu_supported(const tc_kernel_variant *v) {
  return !strcmp(v->isa, "avxvnni") || tc_kernel_variant_supported(v);
}
C
gcc $cflags -c "$tmp/sup.c" -o "$tmp/sup.o"
for t in test_qgemm_vnni test_qconv_fast; do
  gcc $cflags -DTC_SHARED_DIR='"."' -DTC_CLI_PATH='"."' -Dtc_kernel_variant_supported=emu_supported \
    -c "$root/tests/kernels/$t.c" -o "$tmp/$t.o"
done
gcc $cflags -DTC_SHARED_DIR='"."' -c "$root/tests/main.c" -o "$tmp/main.o"
gcc "$tmp/v.o" "$tmp/sup.o" "$tmp/test_qgemm_vnni.o" "$tmp/test_qconv_fast.o" "$tmp/main.o" \
  "$build/libtensorc.a" $san -lpthread -lm -o "$tmp/emu"
if objdump -d "$tmp/v.o" | grep -q vpdpbusd; then
  echo "run.sh: the kernel was compiled with a real vpdpbusd" >&2
  exit 1
fi
"$tmp/emu" kernel_qgemm_vnni kernel_qconv_fast
shared=${TC_SHARED_DIR:-$root/../shared}
if [ -f "$shared/models/golden/cases.tsv" ]; then
  gcc $cflags -x c -c "$here/cpu_stub.inc" -o "$tmp/cpu_stub.o"
  gcc $cflags -DTC_SHARED_DIR='"."' -c "$root/tests/lite/test_golden.c" -o "$tmp/golden.o"
  gcc "$tmp/v.o" "$tmp/cpu_stub.o" "$tmp/golden.o" "$tmp/main.o" "$build/libtensorc.a" $san \
    -lpthread -lm -o "$tmp/emu_golden"
  TC_SHARED_DIR="$shared" TC_FORCE_REF= "$tmp/emu_golden" golden_cases
fi
