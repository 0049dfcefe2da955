#!/usr/bin/env bash
# device_issue4.sh: issue 4's checks on a lent machine (Sapphire Rapids class: AVX-512, VNNI,
# AMX), in one call, so that a session with a device spends its minutes measuring, not setting
# up. Here, first: `bench/devpack.sh` (models, golden cases, the peers' ONNX files and the ONNX
# Runtime C API harness into the ignored ./devpack). Then one device call, e.g.
#
#   run(command="bench/device_issue4.sh", carry=["devpack"], timeout_s=560)
#
# Steps (each bounded, and skipped when the call's own deadline of ~500 s is near; about 4-6
# minutes on 16 cores):
#  1. Release build of tensorc, tc-test, bench_qgemm and bench_isa (Ninja where present;
#     warnings are counted, not fatal: the machine's gcc is not CI's).
#  2. The single-core peaks of this CPU (bench_isa: fp32 FMA ymm/zmm, vpdpbusd ymm/zmm).
#  3. Correctness on the real ISA: the kernel tests and the golden cases (dispatch picks the
#     AMX / VNNI / AVX-512 variants).
#  4. Against ONNX Runtime: bench_ort_py.py, 1 and 2 threads, 2 rounds, with ORT's Python package
#     and the peers' C API harness (devpack/ort) where present.
#  5. MobileNetV2 quant per layer with `--profile --peak P` (P: the VNNI zmm peak step 2 measured)
#     three ways: default (AMX), TC_CPU_DISABLE=amx-int8 (VNNI), and also without avx512vnni
#     (AVX2 GEMMs). MobileNetV1 0.25 float with and without the AVX-512 core set (the fp32 zmm
#     peak).
#     Per-op profiles of the other six models (1 thread) and of both MobileNets at 2 threads, in
#     the packed logs only.
#  6. The golden cases with TC_FORCE_REF=1.
# A summary goes to stdout; the logs are written to /tmp/tc-dev-logs and packed after every step
# into $OUT/devlogs.tgz (the device tool brings back at most 8 files). Exit status: 1 if the build
# or a test failed.
. "$(dirname "$0")/device_common.sh" /tmp/tc-dev-logs devlogs.tgz "${1:-devpack}"
build=build-dev
deadline=$((SECONDS + ${TC_DEV_BUDGET_S:-500}))
left() { echo $((deadline - SECONDS)); }
# step_time N: true if N seconds remain before the deadline (else says the step is skipped).
step_time() {
  if [ "$(left)" -lt "$1" ]; then echo "   (skipped: $(left) s left of the call's budget)"; return 1; fi
}
export TC_SHARED_DIR=$root/$pack/shared
fail=0
{ lscpu || cat /proc/cpuinfo; } > "$out/cpu.txt" 2>&1
grep -m3 -E "Model name|model name|^CPU\(s\)|L2" "$out/cpu.txt"
grep -o -w -E "avx512f|avx512_vnni|amx_tile|amx_int8|avx_vnni" "$out/cpu.txt" | sort -u | tr '\n' ' '
echo
{ cc --version | head -1; cmake --version | head -1; command -v ninja; python3 --version; } 2>&1 | tr '\n' ';'
echo

echo "== 1. build"
if ! dev_build . $build tensorc tc-test bench_qgemm bench_isa > "$out/build.txt" 2>&1; then
  tail -30 "$out/build.txt"
  pack_logs
  exit 1
fi
echo "   warnings: $(grep -c 'warning:' "$out/build.txt")"
grep -m5 'warning:' "$out/build.txt"
$build/tc-test kernel_gemm_cpu_features | grep "cpu features"

pack_logs
echo "== 2. single-core peaks"
timeout 60 $build/bench_isa --iters 10 > "$out/bench_isa.txt" 2>&1
head -7 "$out/bench_isa.txt"
# the profiles' %peak: this machine's measured zmm peaks, else TOOLCHAINS.md's (3.6 GHz VM)
peak_f32=$(awk '/vfmadd231ps zmm/ && $NF ~ /^[0-9.]+$/ {print int($NF)}' "$out/bench_isa.txt")
peak_i8=$(awk '/vpdpbusd zmm/ && $NF ~ /^[0-9.]+$/ {print int($NF)}' "$out/bench_isa.txt")
peak_f32=${peak_f32:-230} peak_i8=${peak_i8:-900}
echo "   profiles quote % of $peak_f32 GFLOP/s (fp32) and $peak_i8 GOP/s (int8)"

pack_logs
echo "== 3. tests on this CPU"
timeout 150 $build/tc-test kernel_ golden > "$out/tests.txt" 2>&1 || fail=1
grep -E "tests, .* failed|golden:|^\[FAIL|qgemm runs over" "$out/tests.txt"

pack_logs
echo "== 4. against ONNX Runtime"
ortc=()
if [ -x "$pack/ort/ort_bench" ] && [ -f "$pack/ort/libonnxruntime.so.1.xz" ]; then
  python3 -c "import lzma, sys; open(sys.argv[2], 'wb').write(lzma.open(sys.argv[1]).read())" \
    "$pack/ort/libonnxruntime.so.1.xz" /tmp/libonnxruntime.so.1 &&
    export LD_LIBRARY_PATH=/tmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} && ortc=(--ort-c "$pack/ort/ort_bench")
fi
if [ -d "$pack/peers" ] && step_time 120; then
  PYTHONUNBUFFERED=1 timeout $(($(left) - 100)) python3 bench/bench_ort_py.py "$pack/peers" \
    --tensorc $build/tensorc --models "$models" --runs 200 --threads 1,2 --rounds 2 "${ortc[@]}" |
    tee "$out/ort.md"
fi

pack_logs
echo "== 5. MobileNetV2 quant per layer (1 thread): AMX / VNNI / AVX2"
mv2=$models/coral/mobilenet_v2_1.0_224_quant.tflite
for dis in "" "amx-int8" "amx-int8,amx-tile,avx512vnni"; do
  step_time 40 || break
  tag=${dis:-default}
  TC_CPU_DISABLE=$dis timeout 30 $build/tensorc bench "$mv2" --runs 100 --profile --peak $peak_i8 \
    > "$out/mv2_${tag//,/_}.txt" 2>&1
  echo "-- TC_CPU_DISABLE=$tag: $(grep -o 'median=[0-9.]*' "$out/mv2_${tag//,/_}.txt")"
  grep "heaviest" "$out/mv2_${tag//,/_}.txt"
done
timeout 30 $build/bench_qgemm > "$out/bench_qgemm.txt" 2>&1 || true
echo "-- MobileNetV1 0.25 float (1 thread): AVX-512 (GEMM, depthwise) / AVX2"
mv1=$models/tflite_support/mobilenet_v1_0.25_224_float.tflite
for dis in "" "avx512dq"; do
  step_time 30 || break
  tag=${dis:-default}
  TC_CPU_DISABLE=$dis timeout 30 $build/tensorc bench "$mv1" --runs 300 --profile --peak $peak_f32 \
    > "$out/mv1_$tag.txt" 2>&1
  echo "   TC_CPU_DISABLE=$tag: $(TC_CPU_DISABLE=$dis timeout 30 $build/tensorc bench "$mv1" \
    --runs 300 | grep -o 'median=[0-9.]*')"
  grep "heaviest" "$out/mv1_$tag.txt"
done

for m in mlperf_tiny/vww_96_int8 mlperf_tiny/vww_96_float mlperf_tiny/ic_resnet8_int8 \
         mlperf_tiny/ic_resnet8_float mlperf_tiny/kws_ref_model_int8 tflm/person_detect; do
  step_time 60 || break
  timeout 20 $build/tensorc bench "$models/$m.tflite" --runs 300 --profile > "$out/$(basename $m).txt" 2>&1
done
step_time 60 && timeout 20 $build/tensorc bench "$mv1" --runs 300 --profile --threads 2 \
  --peak $peak_f32 > "$out/mv1_2t.txt" 2>&1
step_time 60 && timeout 30 $build/tensorc bench "$mv2" --runs 100 --profile --threads 2 \
  --peak $peak_i8 > "$out/mv2_2t.txt" 2>&1
pack_logs
echo "== 6. golden cases, reference kernels forced"
if step_time 40; then
  TC_FORCE_REF=1 timeout $(($(left) - 10)) $build/tc-test golden > "$out/tests_ref.txt" 2>&1 || fail=1
  grep -E "tests, .* failed|golden:" "$out/tests_ref.txt" | sed 's/^/  (reference forced) /'
fi
pack_logs
echo "== done in $SECONDS s"
exit $fail
