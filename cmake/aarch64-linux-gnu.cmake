# aarch64-linux-gnu.cmake: CMake toolchain file for cross-compiling tensorc to 64-bit Arm Linux
# with Debian's gcc-aarch64-linux-gnu (and libc6-dev-arm64-cross). The binaries run on an
# aarch64 machine or under user-mode emulation: qemu-aarch64 -L /usr/aarch64-linux-gnu BINARY.
# Used by scripts/cross-aarch64.sh:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(TC_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross tools (gcc, ar, ...)")
set(CMAKE_C_COMPILER ${TC_CROSS_PREFIX}gcc)
set(CMAKE_AR ${TC_CROSS_PREFIX}ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${TC_CROSS_PREFIX}ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${TC_CROSS_PREFIX}strip CACHE FILEPATH "")

# Look for headers and libraries in the target's sysroot only, never in the host's /usr: an
# optional host library (zlib, libpng, cJSON) must not be linked into an aarch64 binary.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config would otherwise report the host's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/aarch64-linux-gnu/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Lets ctest and add_test run the target binaries through qemu on an x86 host.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
