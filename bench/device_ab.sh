#!/usr/bin/env bash
# device_ab.sh: on a lent machine, the working tree against an earlier commit on the same CPU in
# one call: whether a session's kernel changes, made and timed on another machine, pay on this
# one. After `TC_DEVPACK_BASE=COMMIT bench/devpack.sh` here (which packs that commit's source):
#
#   run(command="bench/device_ab.sh", carry=["devpack"], timeout_s=400)
#
# Builds tensorc from the working tree (build-dev) and from the packed commit (build-base,
# Release, Ninja where present), then times each of issue 4's models with both binaries in
# alternating rounds (`tensorc bench --runs N`, 1 thread, and 2 threads for the MobileNets) and
# prints one table: the lowest median of each side and base / head (above 1: the working tree
# is faster). Per-op profiles of both for the integer models go to $OUT/ab.tgz.
# Environment: TC_AB_ROUNDS (default 4), TC_AB_RUNS (200), TC_DEV_BUDGET_S (300 s of runs after
# the builds).
. "$(dirname "$0")/device_common.sh" /tmp/tc-ab ab.tgz "${1:-devpack}"
[ -f "$pack/base-src.tar.gz" ] || { echo "device_ab.sh: no $pack/base-src.tar.gz" \
  "(TC_DEVPACK_BASE=COMMIT bench/devpack.sh)" >&2; exit 1; }
rounds=${TC_AB_ROUNDS:-4}
runs=${TC_AB_RUNS:-200}
base_src=/tmp/tc-ab-base-src
rm -rf "$base_src"
mkdir -p "$base_src"
tar -xzf "$pack/base-src.tar.gz" -C "$base_src"
if ! dev_build . build-dev tensorc > "$out/build-head.txt" 2>&1 ||
   ! dev_build "$base_src" "$base_src/build" tensorc > "$out/build-base.txt" 2>&1; then
  tail -30 "$out"/build-*.txt; pack_logs; exit 1
fi
head_bin=build-dev/tensorc
base_bin=$base_src/build/tensorc
deadline=$((SECONDS + ${TC_DEV_BUDGET_S:-300}))
median() { timeout 60 "$1" bench "$2" --runs "$runs" --warmup 20 --threads "$3" 2>&1 |
           grep -o 'median=[0-9.]*' | cut -d= -f2; }
lowest() { printf '%s\n' "$@" | grep . | sort -g | head -1; }
echo "base $(cat "$pack/base-commit" 2>/dev/null || echo '?') against the working tree;" \
  "lowest median of $rounds alternating rounds of $runs runs"
echo
echo "| model | threads | base ms | head ms | base / head |"
echo "|---|---:|---:|---:|---:|"
for m in $dev_models; do
  threads=1
  case $m in */mobilenet*) threads="1 2" ;; esac
  for t in $threads; do
    a=() b=()
    for r in $(seq "$rounds"); do
      [ $SECONDS -lt $deadline ] || break
      a+=("$(median "$base_bin" "$models/$m.tflite" "$t")")
      b+=("$(median "$head_bin" "$models/$m.tflite" "$t")")
    done
    la=$(lowest "${a[@]:-}") lb=$(lowest "${b[@]:-}")
    ratio=n/a
    [ -n "$la" ] && [ -n "$lb" ] && ratio=$(awk -v x="$la" -v y="$lb" 'BEGIN { printf "%.3f", x / y }')
    echo "| $(basename "$m") | $t | ${la:-n/a} | ${lb:-n/a} | $ratio |"
  done
done
for m in coral/mobilenet_v2_1.0_224_quant mlperf_tiny/ic_resnet8_int8 mlperf_tiny/vww_96_int8 \
         mlperf_tiny/kws_ref_model_int8 tflm/person_detect; do
  [ $SECONDS -lt $deadline ] || break
  n=$(basename "$m")
  timeout 60 "$base_bin" bench "$models/$m.tflite" --runs 100 --profile > "$out/${n}_base.txt" 2>&1
  timeout 60 "$head_bin" bench "$models/$m.tflite" --runs 100 --profile > "$out/${n}_head.txt" 2>&1
done
pack_logs
