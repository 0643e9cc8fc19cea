# Cross build for Debian armhf: Debian's cross compiler (gcc-arm-linux-gnueabihf) and
# the target's -dev packages from multiarch (dpkg --add-architecture armhf;
# scripts/install-deps). Device side only: libuptake and uptake-agent.
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake
# Tests run under qemu-user (qemu-arm, Debian's qemu-user) with the target's
# libraries from multiarch (scripts/cross-test).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

# Multiarch: the target's libraries are in /usr/lib/arm-linux-gnueabihf, its headers
# in /usr/include (and /usr/include/arm-linux-gnueabihf); the cross libc is in
# /usr/arm-linux-gnueabihf.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest runs the test programs under qemu-user; the target's dynamic loader
# and libraries come from multiarch (libc6:armhf).
find_program(UPTAKE_QEMU qemu-arm)
if(UPTAKE_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${UPTAKE_QEMU})
endif()

# The device side: no server, no CLI.
set(UPTAKE_SERVER OFF CACHE BOOL "" FORCE)
set(UPTAKE_CLI OFF CACHE BOOL "" FORCE)
