#!/usr/bin/env bash
# device_variants.sh: on a lent machine, which kernel variant set is fastest for each of issue
# 4's models, and where the time goes: for the per-layer dispatch rules of a CPU this VM does not
# have. After `bench/devpack.sh` here, one device call:
#
#   run(command="bench/device_variants.sh", carry=["devpack"], timeout_s=400)
#
#  1. Release build (Ninja where present) of tensorc and bench_isa; the single-core peaks.
#  2. Every model at 1 thread, `tensorc bench --runs 300` medians with the variants cut down step
#     by step through TC_CPU_DISABLE: all (AMX), no AMX (AVX-512 VNNI), no AVX-512 (AVX2 and
#     AVX-VNNI), no VNNI at all (AVX2).
#  3. Per-op profiles (1 thread, and 2 threads for the MobileNets) of every model with all
#     variants, and without AMX for the integer ones.
# Summary on stdout; the profiles packed into $OUT/variants.tgz. Budget: ~300 s of runs after
# the build (TC_DEV_BUDGET_S).
. "$(dirname "$0")/device_common.sh" /tmp/tc-variants variants.tgz "${1:-devpack}"
deadline=$((SECONDS + ${TC_DEV_BUDGET_S:-360}))
build=build-dev
if ! dev_build . $build tensorc bench_isa > "$out/build.txt" 2>&1; then
  tail -30 "$out/build.txt"; pack_logs; exit 1
fi
timeout 60 $build/bench_isa --iters 10 | head -6
list=$dev_models
sets=("" "amx-int8" "amx-int8,avx512f" "amx-int8,avx512f,avxvnni")
echo "| model (1 thread, median ms) | all | no AMX | no AVX-512 | AVX2 only |"
echo "|---|---:|---:|---:|---:|"
for m in $list; do
  row="| $(basename "$m")"
  for dis in "${sets[@]}"; do
    [ $SECONDS -lt $deadline ] || break
    v=$(TC_CPU_DISABLE=$dis timeout 30 $build/tensorc bench "$models/$m.tflite" --runs 300 |
        grep -o 'median=[0-9.]*' | cut -d= -f2)
    row="$row | ${v:-n/a}"
  done
  echo "$row |"
done
pack_logs
for m in $list; do
  n=$(basename "$m")
  for dis in "" "amx-int8"; do
    [ $SECONDS -lt $deadline ] || break
    case $n:$dis in *float*:amx-int8) continue ;; esac
    TC_CPU_DISABLE=$dis timeout 30 $build/tensorc bench "$models/$m.tflite" --runs 200 --profile \
      > "$out/${n}_${dis:-all}.txt" 2>&1
  done
  case $n in mobilenet*)
    timeout 30 $build/tensorc bench "$models/$m.tflite" --runs 200 --profile --threads 2 \
      > "$out/${n}_all_2t.txt" 2>&1 ;;
  esac
  grep -h "heaviest" "$out/${n}_all.txt" | sed "s/^/$n: /"
done
pack_logs
echo "== done in $SECONDS s"
