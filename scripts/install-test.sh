#!/usr/bin/env bash
# install-test.sh BUILD_DIR: installs the build into a temporary prefix and builds a program
# against it twice, once through pkg-config and once through CMake's find_package(tensorc), to
# prove the installed headers, libraries, tensorc.pc and tensorcConfig.cmake work.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
# 1. pkg-config, static library
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -std=c11 -o "$tmp/classify_pc" "$root/examples/classify.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags tensorc) \
  "$libdir/libtensorc.a" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --libs-only-l --static tensorc | sed 's/-ltensorc//')
# 2. CMake package
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(tensorc REQUIRED)
add_executable(classify "$root/examples/classify.c")
target_link_libraries(classify PRIVATE tensorc::tensorc_static)
CM
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer/build" >/dev/null
model="${TC_SHARED_DIR:-$root/../shared}/models/tflm/hello_world_float.tflite"
"$tmp/classify_pc" "$model" >/dev/null
"$tmp/consumer/build/classify" "$model" >/dev/null
echo "install-test: headers, libtensorc.a/.so, tensorc.pc and tensorcConfig.cmake work"
