# emu_common.sh: the shared start of the emulation runs (avx512_emu/run.sh, avxvnni_emu/run.sh),
# sourced after they set `here` (their folder); $1 is the build directory. Sets root, build,
# tmp (removed on exit) and san (EMU_SAN=1: AddressSanitizer + UBSan flags), builds the static
# library, and gives emu_cflags OPT: the compile flags of the emulated kernels and the tests.
root=$(cd "$here/../../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR (a configured build with libtensorc.a)}
cmake --build "$build" --target tensorc_static >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
san=${EMU_SAN:+-fsanitize=address,undefined -fno-sanitize-recover=all}
emu_cflags() { echo "$1 -std=c11 -D_GNU_SOURCE -I$root/src -I$root/include -I$root/tests $san"; }
