#!/usr/bin/env bash
# device_issue4.sh: issue 4's checks on a lent machine (Sapphire Rapids class: AVX-512, VNNI,
# AMX), in one call, so that a session with a device spends its minutes measuring, not setting
# up. Here, first: `bench/devpack.sh` (models, golden cases and the peers' ONNX files into the
# ignored ./devpack). Then one device call, e.g.
#
#   run(command="bench/device_issue4.sh", carry=["devpack"], timeout_s=560)
#
# Steps (each bounded; about 6-8 minutes on 16 cores):
#  1. Release build (-Werror) of tensorc, tc-test and bench_qgemm.
#  2. Correctness on the real ISA: the kernel tests and the golden cases (dispatch picks the
#     AMX / VNNI / AVX-512 variants), the golden cases again with TC_FORCE_REF=1.
#  3. MobileNetV2 quant per layer with `--profile --peak 900` (VNNI peak of TOOLCHAINS.md) three
#     ways: default (AMX), TC_CPU_DISABLE=amx-int8 (VNNI), and also without avx512vnni (AVX2
#     GEMMs); the depthwise layers run dwconv avx512vnni in the first two, avx512 in the third.
#     MobileNetV1 0.25 float with and without the AVX-512 core set (f32 GEMM, depthwise and
#     Winograd transforms on AVX-512, or all on AVX2), `--peak 230` (AVX-512 FMA).
#  4. The ORT comparison of bench_ort_py.py (1 and 2 threads, ORT's Python package), if the
#     machine has it.
# Everything goes to $OUT (or /tmp/tc-dev-out) and a summary to stdout. Exit status: 1 if the
# build or a test failed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pack=${1:-devpack}
out=${OUT:-/tmp/tc-dev-out}
mkdir -p "$out"
jobs=$(nproc)
build=build-dev
export TC_SHARED_DIR=$root/$pack/shared
models=$TC_SHARED_DIR/models
fail=0
lscpu > "$out/cpu.txt" 2>&1
grep -E "Model name|^CPU\(s\)|L2" "$out/cpu.txt"
grep -o -w -E "avx512f|avx512_vnni|amx_tile|amx_int8|avx_vnni" "$out/cpu.txt" | sort -u | tr '\n' ' '
echo

echo "== 1. build"
if ! { cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DTC_WERROR=ON &&
       cmake --build $build -j"$jobs" --target tensorc tc-test bench_qgemm; } > "$out/build.txt" 2>&1; then
  tail -30 "$out/build.txt"
  exit 1
fi
$build/tc-test kernel_gemm_cpu_features | grep "cpu features"

echo "== 2. tests on this CPU"
timeout 300 $build/tc-test kernel_ golden > "$out/tests.txt" 2>&1 || fail=1
grep -E "tests, .* failed|golden:|^\[FAIL|qgemm runs over" "$out/tests.txt"
TC_FORCE_REF=1 timeout 200 $build/tc-test golden > "$out/tests_ref.txt" 2>&1 || fail=1
grep -E "tests, .* failed|golden:" "$out/tests_ref.txt" | sed 's/^/  (reference forced) /'

echo "== 3. MobileNetV2 quant per layer (1 thread): AMX / VNNI / AVX2"
mv2=$models/coral/mobilenet_v2_1.0_224_quant.tflite
for dis in "" "amx-int8" "amx-int8,amx-tile,avx512vnni"; do
  tag=${dis:-default}
  TC_CPU_DISABLE=$dis timeout 60 $build/tensorc bench "$mv2" --runs 100 --profile --peak 900 \
    > "$out/mv2_${tag//,/_}.txt" 2>&1
  echo "-- TC_CPU_DISABLE=$tag: $(grep -o 'median=[0-9.]*' "$out/mv2_${tag//,/_}.txt")"
  grep -A3 "heaviest" "$out/mv2_${tag//,/_}.txt" | head -1
done
for t in 1 2; do
  echo "-- default, $t thread(s): $(timeout 60 $build/tensorc bench "$mv2" --runs 200 --threads $t |
                                   grep -o 'median=[0-9.]*')"
done
timeout 60 $build/bench_qgemm > "$out/bench_qgemm.txt" 2>&1 || true
echo "-- MobileNetV1 0.25 float (1 thread): AVX-512 (GEMM, depthwise) / AVX2"
mv1=$models/tflite_support/mobilenet_v1_0.25_224_float.tflite
for dis in "" "avx512dq"; do
  tag=${dis:-default}
  TC_CPU_DISABLE=$dis timeout 60 $build/tensorc bench "$mv1" --runs 300 --profile --peak 230 \
    > "$out/mv1_$tag.txt" 2>&1
  echo "   TC_CPU_DISABLE=$tag: $(TC_CPU_DISABLE=$dis timeout 60 $build/tensorc bench "$mv1" \
    --runs 300 | grep -o 'median=[0-9.]*')"
done

echo "== 4. against ONNX Runtime (Python package)"
if python3 -c "import onnxruntime, numpy" 2>/dev/null && [ -d "$pack/peers" ]; then
  timeout 300 python3 bench/bench_ort_py.py "$pack/peers" --tensorc $build/tensorc \
    --models "$models" --runs 200 --threads 1,2 | tee "$out/ort.md"
else
  echo "onnxruntime (Python) or $pack/peers missing: skipped"
fi
exit $fail
