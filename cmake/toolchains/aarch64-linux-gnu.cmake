# Cross build for 64-bit ARM Linux with Debian's cross compiler and arm64 multiarch packages:
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DQSR_BUILD_VIEWER=OFF
# The sysroot is the host's own root: Debian installs arm64 libraries beside the host's, in
# /usr/lib/aarch64-linux-gnu, and the headers quantsr needs (Vulkan, volk, stb) are the same for
# every architecture in /usr/include. The shaders are compiled by the host's glslangValidator.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(QSR_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${QSR_CROSS_TRIPLE}-gcc)

# Libraries and CMake packages come from the arm64 multiarch folders only, never from the
# host's x86_64 ones; programs (glslangValidator) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${QSR_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# ctest runs the test programs through qemu-user (user-mode emulation needs no binfmt set-up
# and no privileges). -L makes qemu find the arm64 dynamic loader of libc6-arm64-cross. A Vulkan
# loader and driver, if wanted (libvulkan1:arm64 mesa-vulkan-drivers:arm64), are found in
# /usr/lib/aarch64-linux-gnu; docs/building.md says why CI leaves them out.
find_program(QSR_QEMU_AARCH64 qemu-aarch64)
if(QSR_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${QSR_QEMU_AARCH64} -L /usr/${QSR_CROSS_TRIPLE})
endif()
