#!/usr/bin/env bash
# x86-vnni-check.sh: the 8-bit AVX-512 VNNI GEMM (avx512vnni_8x32) on a machine that has it
# (Sapphire Rapids, Ice Lake server, Zen 4). Builds, prints the CPU's relevant flags, runs the
# bit-exact qgemm / 8-bit conv kernel tests (every variant the CPU runs) and the golden cases
# (dispatch picks the VNNI kernel), then times bench_qgemm's model layers for each variant and
# the int8 / uint8 models at 1 thread with the VNNI kernel and with TC_CPU_DISABLE=avx512vnni
# (the AVX2 kernel), and shows which kernel each CONV_2D got.
# Usage: scripts/x86-vnni-check.sh [SHARED_DIR] [BUILD_DIR]   (a few minutes on 16 cores)
set -uo pipefail
cd "$(dirname "$0")/.."
S=${1:-${TC_SHARED_DIR:-$(cd .. && pwd)/shared}}
B=${2:-build-vnni-check}
echo "== cpu"
grep -m1 "model name" /proc/cpuinfo
grep -o -w -E 'avx512f|avx512bw|avx512vl|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort | uniq -c
echo "== build"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DTC_SHARED_DIR="$S" >/dev/null || exit 1
cmake --build "$B" -j"$(nproc)" --target tc-test tensorc bench_qgemm >/dev/null || exit 1
echo "== tests (bit-exact kernels, golden)"
TC_SHARED_DIR="$S" "$B/tc-test" kernel_qgemm kernel_qconv golden 2>&1 | grep -E "FAIL|tests,|variants|golden:"
echo "== bench_qgemm (1 thread, median)"
"$B/bench_qgemm" --runs 50
echo "== models, 1 thread: vnni vs avx2 (TC_CPU_DISABLE=avx512vnni)"
for m in coral/mobilenet_v2_1.0_224_quant mlperf_tiny/vww_96_int8 mlperf_tiny/ic_resnet8_int8 \
         mlperf_tiny/kws_ref_model_int8 tflm/person_detect; do
  for d in "" avx512vnni; do
    printf '%-36s %-5s ' "$m" "$([ -z "$d" ] && echo vnni || echo avx2)"
    TC_CPU_DISABLE=$d "$B/tensorc" bench "$S/models/$m.tflite" --runs 200 2>&1 | grep '^inference'
  done
done
echo "== kernels chosen (mobilenet_v2 quant)"
"$B/tensorc" bench "$S/models/coral/mobilenet_v2_1.0_224_quant.tflite" --runs 20 --profile 2>&1 |
  grep -E "CONV_2D|FULLY" | head -8
