#!/bin/sh
# corpus-seed.sh: makes a seed corpus for fuzz_load from the small models in ../shared/models.
# Usage: fuzz/corpus-seed.sh [DIR] [MAX_BYTES]   (default DIR: a new mktemp -d, MAX_BYTES: 100000)
# Prints the corpus directory. The models are copied to DIR only, never into the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
models=${TC_SHARED_DIR:-$here/../../shared}/models
dir=${1:-$(mktemp -d /tmp/tc-fuzz-corpus.XXXXXX)}
max=${2:-100000}
[ -d "$models" ] || { echo "corpus-seed.sh: no models folder at $models" >&2; exit 1; }
mkdir -p "$dir"
n=0
for f in $(find "$models" -name '*.tflite' -size -"$max"c | sort); do
  # Flatten the path: tflm/hello_world_float.tflite -> tflm_hello_world_float.tflite
  rel=${f#"$models"/}
  cp "$f" "$dir/$(echo "$rel" | tr '/' '_')"
  n=$((n + 1))
done
echo "corpus-seed.sh: $n models copied" >&2
echo "$dir"
