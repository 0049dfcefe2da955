#!/bin/sh
# bench_models.sh: baseline benchmark of tensorc on the float models of ../shared/models.
# Runs `tensorc bench --json` on each model and prints a markdown table (model, median ms,
# min ms, arena KiB, peak RSS MiB). A model that fails shows the first line of its error.
#
# usage: bench/bench_models.sh [TENSORC_BINARY [RUNS]]     (defaults: build/tensorc 50)
# The models folder defaults to ../shared/models next to the repository (TC_MODELS overrides).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${1:-$root/build/tensorc}
runs=${2:-50}
models=${TC_MODELS:-$root/../shared/models}

if [ ! -x "$bin" ]; then
  echo "bench_models.sh: tensorc binary not found at $bin (pass its path as the first argument)" >&2
  exit 2
fi
case $runs in
  '' | *[!0-9]*) echo "bench_models.sh: RUNS must be a positive integer, got '$runs'" >&2; exit 2 ;;
esac

list="tflite_support/mobilenet_v1_0.25_224_float
mlperf_tiny/vww_96_float
mlperf_tiny/ic_resnet8_float
mlperf_tiny/kws_ref_model_float32
mlperf_tiny/ad01_fp32
tflm/magic_wand
tflm/hello_world_float
tflm/mnist_lstm_float
tflite_support/movie_review"

# Pulls the number after "key": out of a one-line JSON object.
field() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }

echo "tensorc $("$bin" --version 2>/dev/null | sed 's/^tensorc //'), $runs runs, $(uname -m), $(date -u +%Y-%m-%d)"
echo
echo "| model | median ms | min ms | arena KiB | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
status=0
tmp=${TMPDIR:-/tmp}/bench_models.$$
trap 'rm -f "$tmp"' EXIT INT TERM
for m in $list; do
  path=$models/$m.tflite
  if "$bin" bench "$path" --runs "$runs" --json >"$tmp" 2>&1; then
    line=$(grep '^{' "$tmp" | tail -n 1)
    awk -v m="$m" -v med="$(field median_us "$line")" -v mn="$(field min_us "$line")" \
        -v ar="$(field arena_bytes "$line")" -v rss="$(field peak_rss_kib "$line")" \
        'BEGIN { printf "| %s | %.3f | %.3f | %.1f | %.1f |\n", m, med / 1e3, mn / 1e3, ar / 1024, rss / 1024 }'
  else
    err=$(grep -v '^{' "$tmp" | head -n 1 | sed 's/|/\\|/g')
    echo "| $m | failed: ${err:-no output} | | | |"
    status=1
  fi
done
exit $status
