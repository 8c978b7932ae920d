#!/usr/bin/env bash
# consume.sh - `cmake --install` of this build into a scratch prefix, used the ways
# docs/embedding.md describes: the installed tree has its files, libquantsr.so carries the
# SONAME libquantsr.so.<major> and exports exactly the QSR_API functions of quantsr.h, the
# installed quantsr finds the installed default model, and examples/minimal.c built with
# find_package(quantsr) (shared and static) and with pkg-config (shared and static) writes the
# same bytes as the in-tree build. A missing pkg-config or readelf skips only its checks.
set -u
# shellcheck source=../cli/lib/common.sh
. "$(dirname "$0")/../cli/lib/common.sh"
setup_test cli source
BUILD=${QSR_BINARY_DIR:?QSR_BINARY_DIR must name the build folder}
EXAMPLE=${QSR_EXAMPLE_MINIMAL:?QSR_EXAMPLE_MINIMAL must name the built examples/minimal.c}
CMAKE=${CMAKE_COMMAND:-cmake}
CC=${CC:-cc}
VERSION=${QSR_VERSION:?QSR_VERSION must be the project version}
MAJOR=${VERSION%%.*}
# In a -DQSR_SANITIZE=ON build the libraries need the sanitizer runtimes: consumers link with
# the same flags (empty otherwise).
SANITIZE_FLAGS=${QSR_SANITIZE_FLAGS:-}
DEFAULT_MODEL=quantsr_c_x4_w4a4.qsr
# A small input keeps the six upscales quick; examples/minimal.sh runs assets/sample.png.
SAMPLE=$TMP/input.png
make_png "$SAMPLE" 40 32 7

# The install folders, relative to the prefix (GNUInstallDirs, from the build).
LIBDIR=${QSR_INSTALL_LIBDIR:-lib}
BINDIR=${QSR_INSTALL_BINDIR:-bin}
INCLUDEDIR=${QSR_INSTALL_INCLUDEDIR:-include}
DATADIR=${QSR_INSTALL_DATADIR:-share}
for dir in "$LIBDIR" "$BINDIR" "$INCLUDEDIR" "$DATADIR"; do
    case $dir in
    /*)
        echo "skip: the build installs to the absolute folder $dir, outside any scratch prefix"
        exit 77
        ;;
    esac
done

PREFIX=$TMP/prefix
LIB=$PREFIX/$LIBDIR
MODELS=$PREFIX/$DATADIR/quantsr/models
unset DESTDIR
if ! "$CMAKE" --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
    cat "$TMP/install.log"
    echo "cmake --install failed"
    exit 1
fi

# --- The installed tree --------------------------------------------------------------------
for f in "$INCLUDEDIR/quantsr.h" "$LIBDIR/libquantsr.a" "$LIBDIR/libquantsr.so.$VERSION" \
    "$LIBDIR/cmake/quantsr/quantsrConfig.cmake" "$LIBDIR/cmake/quantsr/quantsrConfigVersion.cmake" \
    "$LIBDIR/cmake/quantsr/quantsrTargets.cmake" "$LIBDIR/pkgconfig/quantsr.pc" \
    "$BINDIR/quantsr" "$DATADIR/quantsr/models/$DEFAULT_MODEL"; do
    [ -f "$PREFIX/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$LIB/libquantsr.so")" = "libquantsr.so.$MAJOR" ] || fail "libquantsr.so does not point to libquantsr.so.$MAJOR"
[ "$(readlink "$LIB/libquantsr.so.$MAJOR")" = "libquantsr.so.$VERSION" ] ||
    fail "libquantsr.so.$MAJOR does not point to libquantsr.so.$VERSION"
if [ -x "$BUILD/quantsr-view" ]; then
    [ -x "$PREFIX/$BINDIR/quantsr-view" ] || fail "quantsr-view is built but not installed"
fi
cmp -s "$SRC/include/quantsr.h" "$PREFIX/$INCLUDEDIR/quantsr.h" || fail "installed quantsr.h differs"
for model in "$SRC"/models/*.qsr; do
    cmp -s "$model" "$MODELS/$(basename "$model")" || fail "model not installed: $(basename "$model")"
done

# --- The shared library: SONAME, dependencies, exported symbols ----------------------------
if command -v readelf >/dev/null; then
    readelf -d "$LIB/libquantsr.so.$VERSION" >"$TMP/dynamic"
    grep -q "Library soname: \[libquantsr.so.$MAJOR\]" "$TMP/dynamic" ||
        fail "SONAME is not libquantsr.so.$MAJOR: $(grep soname "$TMP/dynamic")"
    # volk opens the Vulkan loader at run time; linking it would make it a hard dependency.
    grep -q "NEEDED.*libvulkan" "$TMP/dynamic" && fail "libquantsr.so links libvulkan"
else
    echo "SKIP: no readelf, SONAME and NEEDED entries not checked"
fi
if command -v nm >/dev/null; then
    # Defined dynamic symbols, less the linker's own markers.
    nm -D --defined-only "$LIB/libquantsr.so.$VERSION" | awk '{print $NF}' |
        grep -v -x -E '_init|_fini|_edata|_end|__bss_start' | sort >"$TMP/exported"
    sed -n 's/^QSR_API [^(]*[ *]\(qsr_[a-z0-9_]*\)(.*/\1/p' "$SRC/include/quantsr.h" | sort >"$TMP/declared"
    [ -s "$TMP/declared" ] || fail "no QSR_API function found in quantsr.h"
    if ! cmp -s "$TMP/exported" "$TMP/declared"; then
        fail "libquantsr.so exports other than the QSR_API functions (< exported, > declared):"
        diff "$TMP/exported" "$TMP/declared" | grep '^[<>]' | head -20 >&2
    fi
else
    echo "SKIP: no nm, exported symbols not checked"
fi

# --- The installed programs ----------------------------------------------------------------
# check_upscale NAME PROGRAM ARGS...: runs PROGRAM ARGS... that upscales $SAMPLE to $TMP/NAME.png
# and compares it with the in-tree example's output; stderr must stay empty (validation on).
check_upscale() {
    local name=$1
    shift
    "$@" >/dev/null 2>"$TMP/$name.err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$name: exit $rc: $(cat "$TMP/$name.err")"
    elif [ -s "$TMP/$name.err" ]; then
        fail "$name wrote to stderr: $(cat "$TMP/$name.err")"
    elif ! cmp -s "$TMP/reference.png" "$TMP/$name.png"; then
        fail "$name: output differs from the in-tree examples/minimal.c"
    fi
}

if ! "$EXAMPLE" "$SRC/models/$DEFAULT_MODEL" "$SAMPLE" "$TMP/reference.png" >/dev/null 2>"$TMP/err"; then
    echo "the in-tree example failed: $(cat "$TMP/err")"
    exit 1
fi

# The installed quantsr finds the installed models by itself (the copy keeps the build tree's
# models/ and $QSR_MODEL_DIR out of it).
if env -u QSR_MODEL_DIR "$PREFIX/$BINDIR/quantsr" info --json >"$TMP/info.json" 2>"$TMP/err"; then
    path=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["path"])' "$TMP/info.json")
    [ "$(realpath "$path")" = "$(realpath "$MODELS/$DEFAULT_MODEL")" ] ||
        fail "installed quantsr uses $path, not the installed default model"
else
    fail "installed quantsr finds no default model: $(cat "$TMP/err")"
fi
check_upscale installed_cli env -u QSR_MODEL_DIR "$PREFIX/$BINDIR/quantsr" upscale -q \
    -i "$SAMPLE" -o "$TMP/installed_cli.png"

# needs PROGRAM LIBRARY: whether PROGRAM's dynamic section needs LIBRARY (1 when unknown).
needs() {
    command -v readelf >/dev/null || return 2
    readelf -d "$1" | grep -q "NEEDED.*\[$2"
}

# (a) CMake: examples/CMakeLists.txt, find_package(quantsr) through CMAKE_PREFIX_PATH.
if "$CMAKE" -S "$SRC/examples" -B "$TMP/cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SANITIZE_FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="$SANITIZE_FLAGS" >"$TMP/cmake.log" 2>&1 &&
    "$CMAKE" --build "$TMP/cmake" >>"$TMP/cmake.log" 2>&1; then
    grep -q "^quantsr_DIR:PATH=$LIB/cmake/quantsr\$" "$TMP/cmake/CMakeCache.txt" ||
        fail "find_package found another quantsr: $(grep quantsr_DIR "$TMP/cmake/CMakeCache.txt")"
    grep -q "quantsr $VERSION: models in $MODELS\$" "$TMP/cmake.log" ||
        fail "quantsr_VERSION or quantsr_MODEL_DIR wrong: $(grep 'models in' "$TMP/cmake.log")"
    needs "$TMP/cmake/minimal" "libquantsr.so.$MAJOR]"
    [ $? -eq 1 ] && fail "quantsr::quantsr did not link libquantsr.so.$MAJOR"
    needs "$TMP/cmake/minimal_static" libquantsr && fail "quantsr::quantsr_static linked libquantsr.so"
    check_upscale cmake_shared "$TMP/cmake/minimal" "$MODELS/$DEFAULT_MODEL" "$SAMPLE" "$TMP/cmake_shared.png"
    check_upscale cmake_static "$TMP/cmake/minimal_static" "$MODELS/$DEFAULT_MODEL" "$SAMPLE" "$TMP/cmake_static.png"
    # examples/vulkan_frames.c: frames recorded on its own device equal qsr_upscaler_run.
    if [ -x "$TMP/cmake/vulkan_frames" ]; then
        mkdir -p "$TMP/frames"
        "$TMP/cmake/vulkan_frames" "$MODELS/$DEFAULT_MODEL" "$TMP/frames" --frames 2 --size 16x12 \
            --verify >"$TMP/frames.out" 2>"$TMP/frames.err" ||
            fail "installed-tree vulkan_frames: $(cat "$TMP/frames.err")"
        [ "$(grep -c "identical to qsr_upscaler_run" "$TMP/frames.out")" -eq 2 ] ||
            fail "installed-tree vulkan_frames: $(cat "$TMP/frames.out")"
    fi
else
    cat "$TMP/cmake.log"
    fail "the find_package(quantsr) project does not build"
fi

# (b) pkg-config through PKG_CONFIG_PATH; the static link names libquantsr.a and adds
# Libs.private (pkg-config --static).
if command -v pkg-config >/dev/null; then
    export PKG_CONFIG_PATH=$LIB/pkgconfig
    [ "$(pkg-config --modversion quantsr)" = "$VERSION" ] || fail "pkg-config --modversion is not $VERSION"
    modeldir=$(pkg-config --variable=modeldir quantsr)
    [ -f "$modeldir/$DEFAULT_MODEL" ] || fail "pkg-config's modeldir '$modeldir' has no $DEFAULT_MODEL"
    # shellcheck disable=SC2046,SC2086 # the flags are words
    if $CC $SANITIZE_FLAGS -o "$TMP/pc_shared" "$SRC/examples/minimal.c" \
        $(pkg-config --cflags --libs quantsr) 2>"$TMP/err"; then
        check_upscale pc_shared env LD_LIBRARY_PATH="$LIB" "$TMP/pc_shared" \
            "$modeldir/$DEFAULT_MODEL" "$SAMPLE" "$TMP/pc_shared.png"
    else
        fail "cc \$(pkg-config --cflags --libs quantsr) fails: $(cat "$TMP/err")"
    fi
    static_libs=$(pkg-config --static --libs quantsr)
    static_libs=${static_libs/-lquantsr/-l:libquantsr.a}
    # shellcheck disable=SC2046,SC2086
    if $CC $SANITIZE_FLAGS -o "$TMP/pc_static" "$SRC/examples/minimal.c" \
        $(pkg-config --cflags quantsr) $static_libs 2>"$TMP/err"; then
        needs "$TMP/pc_static" libquantsr && fail "the pkg-config static link needs libquantsr.so"
        check_upscale pc_static "$TMP/pc_static" "$modeldir/$DEFAULT_MODEL" "$SAMPLE" "$TMP/pc_static.png"
    else
        fail "static link with pkg-config --static --libs quantsr fails: $(cat "$TMP/err")"
    fi
else
    echo "SKIP: no pkg-config, quantsr.pc not checked"
fi

finish
