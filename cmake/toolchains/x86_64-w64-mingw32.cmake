# Cross build of the library for 64-bit Windows with MinGW-w64 (Debian: gcc-mingw-w64-x86-64):
#   cmake -S . -B build-mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/x86_64-w64-mingw32.cmake \
#         -DQSR_BUILD_CLI=OFF -DQSR_BUILD_TESTS=OFF -DQSR_BUILD_VIEWER=OFF \
#         -DVOLK_INCLUDE_DIR=<dir with volk.h, volk.c, vulkan/> -DSTB_INCLUDE_DIR=<dir with stb_image.h>
# It checks that runtime/ compiles and links for Windows (quantsr.dll, libquantsr.dll.a,
# libquantsr.a) with warnings as errors; the CLI and the tests are POSIX programs. The header
# folders must hold only those headers: the host's /usr/include would bring glibc's headers in
# front of MinGW's (.ci/run makes such a folder of links).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(QSR_CROSS_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${QSR_CROSS_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${QSR_CROSS_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${QSR_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
