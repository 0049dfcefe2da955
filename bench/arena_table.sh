#!/bin/sh
# arena_table.sh: tensorc's arena bytes per model next to TFLite Micro's arena_used_bytes from
# ../shared/models/golden/README.md. tensorc's figure is tc_interp_arena_used(): interpreter
# tables, op state and planned activations (the model index is separate, see `inspect`).
# usage: bench/arena_table.sh [TENSORC_BINARY]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/tensorc}
shared=${TC_SHARED_DIR:-$root/../shared}
readme=$shared/models/golden/README.md
echo "| model | tensorc arena bytes | of which activations | TFLM arena bytes | ratio |"
echo "|---|---:|---:|---:|---:|"
grep -E '^\| `[^`]+\.tflite` \|' "$readme" | while IFS='|' read -r _ model _ _ _ _ _ _ tflm _; do
  model=$(echo "$model" | tr -d ' `')
  tflm=$(echo "$tflm" | tr -d ' ')
  line=$("$bin" inspect "$shared/models/$model" 2>/dev/null | grep '^arena:')
  ours=$(echo "$line" | sed -n 's/^arena: \([0-9]*\) bytes.*/\1/p')
  act=$(echo "$line" | sed -n 's/.*activations \([0-9]*\) bytes.*/\1/p')
  [ -z "$ours" ] && ours="-" && act="-"
  ratio="-"
  if [ "$ours" != "-" ] && [ "$tflm" != "-" ] && [ -n "$tflm" ]; then
    ratio=$(awk -v a="$ours" -v b="$tflm" 'BEGIN { printf "%.2f", a / b }')
  fi
  echo "| $model | $ours | $act | $tflm | $ratio |"
done
