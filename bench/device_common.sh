# device_common.sh: what the device_*.sh scripts share (bench/README.md), sourced first thing:
#   . "$(dirname "$0")/device_common.sh" LOGS_DIR ARCHIVE "${1:-devpack}"
# It makes the working tree the current directory ($root), sets the pack folder ($pack) and its
# models ($models), empties LOGS_DIR ($out), and defines pack_logs (LOGS_DIR as $OUT/ARCHIVE, so
# the device tool brings it back), dev_build and the models of issue 4 ($dev_models).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=$1
archive=$2
pack=$3
dest=${OUT:-/tmp/tc-dev-out}
models=$root/$pack/shared/models
rm -rf "$out"
mkdir -p "$out" "$dest"
pack_logs() { tar -C "$(dirname "$out")" -czf "$dest/$archive" "$(basename "$out")"; }
# dev_build SRC BUILD_DIR TARGET...: a Release build (Ninja where present for a new BUILD_DIR).
dev_build() {
  local src=$1 dir=$2
  shift 2
  local gen=()
  [ -f "$dir/CMakeCache.txt" ] || ! command -v ninja > /dev/null || gen=(-G Ninja)
  cmake "${gen[@]}" -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$dir" -j"$(nproc)" --target "$@"
}
dev_models="tflite_support/mobilenet_v1_0.25_224_float coral/mobilenet_v2_1.0_224_quant
mlperf_tiny/vww_96_int8 mlperf_tiny/vww_96_float mlperf_tiny/ic_resnet8_int8
mlperf_tiny/ic_resnet8_float mlperf_tiny/kws_ref_model_int8 tflm/person_detect"
