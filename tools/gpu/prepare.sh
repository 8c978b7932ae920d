#!/usr/bin/env bash
# prepare.sh - run HERE (the development machine) before a GPU session: copies a subset of the
# training images (about 45 MiB, under the device tool's 64 MiB working-tree limit) and Set5
# into .data/gpu/ (git-ignored), and downloads the Debian packages the Vulkan build needs into
# .data/gpu/debs/ (the GPU machine can reach nothing). Then call the device tool with
#   carry: [".data/gpu"]   command: bash tools/gpu/session.sh
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${1:-$SRC/../shared/datasets}
DST=$SRC/.data/gpu
LIMIT=$((45 * 1024 * 1024))
rm -rf "$DST/train" "$DST/Set5"
mkdir -p "$DST/train" "$DST/Set5" "$DST/debs"
cp "$DATA"/eval/Set5/* "$DST/Set5/"
# Round-robin over the sub-folders so every source (urban, manga, photos) is represented.
total=0
mapfile -t files < <(find "$DATA/train" -type f \( -name '*.png' -o -name '*.jpg' \) | sort |
    awk -F/ '{n[$(NF-1)]++; print n[$(NF-1)] "\t" $0}' | sort -n -s -k1,1 | cut -f2)
for f in "${files[@]}"; do
    size=$(stat -c %s "$f")
    [ $((total + size)) -le $LIMIT ] || continue
    cp "$f" "$DST/train/$(basename "$(dirname "$f")")__$(basename "$f")"
    total=$((total + size))
done
echo "prepare: $(ls "$DST/train" | wc -l) training images, $((total / 1048576)) MiB"
# Vulkan headers/loader, volk, stb and glslang for the build over there (unpacked, not installed).
for package in libvulkan1 libvulkan-dev libvulkan-volk-dev libstb-dev libstb0 glslang-tools \
    spirv-tools; do
    (cd "$DST/debs" && apt-get download "$package" >/dev/null 2>&1) ||
        echo "prepare: $package did not download; session.sh skips the Vulkan part without it"
done
du -sh "$DST"
