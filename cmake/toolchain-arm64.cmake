# Cross build for Debian arm64: Debian's cross compiler (gcc-aarch64-linux-gnu) and
# the target's -dev packages from multiarch (dpkg --add-architecture arm64;
# scripts/install-deps). Device side only: libuptake and uptake-agent.
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake
# Tests run under qemu-user (qemu-aarch64, Debian's qemu-user) with the target's
# libraries from multiarch (scripts/cross-test).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch: the target's libraries are in /usr/lib/aarch64-linux-gnu, its headers
# in /usr/include (and /usr/include/aarch64-linux-gnu); the cross libc is in
# /usr/aarch64-linux-gnu.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest runs the test programs under qemu-user; the target's dynamic loader
# and libraries come from multiarch (libc6:arm64).
find_program(UPTAKE_QEMU qemu-aarch64)
if(UPTAKE_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${UPTAKE_QEMU})
endif()

# The device side: no server, no CLI.
set(UPTAKE_SERVER OFF CACHE BOOL "" FORCE)
set(UPTAKE_CLI OFF CACHE BOOL "" FORCE)
