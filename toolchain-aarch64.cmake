# Cross build for the gateway's domestic ARM64 hardware (Debian arm64).
#   scripts/sysroot-arm64                 (Debian's arm64 -dev packages into out/sysroot-arm64)
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchain-aarch64.cmake
# (another sysroot: -DXNODE_SYSROOT=DIR or env XNODE_SYSROOT). scripts/ci-arm64 does all of it.
# Unit tests run under qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR; the functional tests'
# harness takes the same prefix from env XNODE_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(XNODE_SYSROOT "$ENV{XNODE_SYSROOT}" CACHE PATH "arm64 sysroot (scripts/sysroot-arm64 makes one)")
if(NOT XNODE_SYSROOT)
  set(XNODE_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/out/sysroot-arm64 CACHE PATH "" FORCE)
endif()

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_SYSROOT ${XNODE_SYSROOT})
set(CMAKE_FIND_ROOT_PATH ${XNODE_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Debian's multiarch layout inside the sysroot.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config sees the sysroot's .pc files only, never the build machine's.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${XNODE_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${XNODE_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${XNODE_SYSROOT}")

# Run the cross-built tests with qemu-user, with the sysroot's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;${XNODE_SYSROOT})
