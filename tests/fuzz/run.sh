#!/usr/bin/env bash
# run.sh SECONDS [TARGET...] - builds the libFuzzer targets (fuzz_model, fuzz_image, fuzz_args)
# with clang and ASan + UBSan, seeds their corpora and runs each for SECONDS, one after the
# other. Exits 1 on the first crash, leak, timeout or sanitizer report; the input that caused
# it is left in <build>/artifacts/<target>/ (copy it to tests/data/fuzz/regressions/<target minus
# fuzz_>/ so that tests/test_fuzz_regressions.c replays it in every ctest run).
#
# Needs clang-14 and libclang-rt-14-dev (Debian). Environment:
#   QSR_FUZZ_BUILD  build folder (default: build-fuzz at the top of the source tree)
#   QSR_FUZZ_JOBS   make -j for the build (default 2)
#   CC              the clang to use (default clang-14, else clang)
#   QSR_FUZZ_CMAKE_ARGS  more arguments for the configure step, e.g. to try another stb_image:
#                   "-DSTB_INCLUDE_DIR=/path/to/stb -DCMAKE_C_FLAGS=-DSTBI_ONLY_PNG ..." (the
#                   fuzzer flag is added to CMAKE_C_FLAGS either way)
# The growing corpora stay in <build>/corpus/<target>, so later runs continue from them.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_TARGET=${1:?usage: tests/fuzz/run.sh SECONDS [fuzz_model fuzz_image fuzz_args]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_model fuzz_image fuzz_args)
BUILD=${QSR_FUZZ_BUILD:-$SRC/build-fuzz}
JOBS=${QSR_FUZZ_JOBS:-2}
CC=${CC:-$(command -v clang-14 || command -v clang || true)}
[ -n "$CC" ] || { echo "run.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }

SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"

# The runtime and the tools, instrumented for coverage (fuzzer-no-link) and the sanitizers
# (QSR_SANITIZE adds ASan + UBSan to every target).
build_runtime() {
    local extra=() flags="-fsanitize=fuzzer-no-link" arg
    for arg in ${QSR_FUZZ_CMAKE_ARGS:-}; do
        case $arg in
        -DCMAKE_C_FLAGS=*) flags="$flags ${arg#-DCMAKE_C_FLAGS=}" ;;
        *) extra+=("$arg") ;;
        esac
    done
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DQSR_SANITIZE=ON -DQSR_BUILD_VIEWER=OFF -DCMAKE_C_FLAGS="$flags" "${extra[@]}" \
        >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log" >&2; exit 1; }
    nice -n 10 cmake --build "$BUILD" -j "$JOBS" --target quantsr make_random_model >/dev/null
}

# link_target NAME EXTRA_SOURCES...: <build>/fuzz/NAME from tests/fuzz/NAME.c, the shared entry
# points (tests/support) and the instrumented runtime.
link_target() {
    local name=$1
    shift
    mkdir -p "$BUILD/fuzz"
    # shellcheck disable=SC2086
    nice -n 10 "$CC" -std=c11 -O1 $SANITIZE -fsanitize=fuzzer -DVK_NO_PROTOTYPES \
        -I"$SRC/include" -I"$SRC/runtime" -I"$SRC/cli" -I"$SRC/tests/support" \
        "$SRC/tests/fuzz/$name.c" "$SRC"/tests/support/*.c "$@" "$BUILD/libquantsr.a" \
        -lm -ldl -lpthread -o "$BUILD/fuzz/$name"
}

build_targets() {
    local cli_sources=()
    for f in "$SRC"/cli/*.c; do
        [ "$(basename "$f")" = main.c ] || cli_sources+=("$f")
    done
    for t in "${TARGETS[@]}"; do
        case $t in
        fuzz_model | fuzz_image) link_target "$t" ;;
        fuzz_args) link_target "$t" "${cli_sources[@]}" ;;
        *) echo "run.sh: unknown target '$t'" >&2; exit 2 ;;
        esac
    done
}

# Seeds beyond the committed ones: models of many shapes from make_random_model, and the
# sample image.
extra_seeds() {
    local dir=$BUILD/generated-seeds
    mkdir -p "$dir/model" "$dir/image" "$dir/args"
    local n=0
    for spec in "2 4 1 2 2" "2 8 4 4 4" "3 6 2 3 3" "4 4 2 4 4" "4 5 3 2 4" "2 3 1 32 32" \
        "3 4 5 4 2"; do
        read -r scale channels blocks bits_w bits_a <<<"$spec"
        ASAN_OPTIONS=detect_leaks=1 "$BUILD/make_random_model" "$dir/model/gen$n.qsr" \
            --scale "$scale" --channels "$channels" --blocks "$blocks" --bits-w "$bits_w" \
            --bits-a "$bits_a" --seed "$n" $([ $((n % 2)) -eq 1 ] && echo --per-channel-step)
        n=$((n + 1))
    done
    cp "$SRC/assets/sample.png" "$dir/image/"
}

run_target() {
    local t=$1 kind=${1#fuzz_}
    local corpus=$BUILD/corpus/$t artifacts=$BUILD/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    local options=(-max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=3072
        -artifact_prefix="$artifacts/" -print_final_stats=1)
    # The parser prints usage errors and help: keep them out of the log.
    [ "$t" = fuzz_args ] && options+=(-close_fd_mask=3 -max_len=512 -dict="$SRC/tests/fuzz/args.dict")
    [ "$t" = fuzz_model ] && options+=(-max_len=65536)
    [ "$t" = fuzz_image ] && options+=(-max_len=65536)
    echo "== $t: ${SECONDS_PER_TARGET} s, log in $BUILD/$t.log"
    # New inputs go to the first folder; the others are read (libFuzzer refuses missing ones,
    # and git keeps no empty regressions/<kind>/).
    local inputs=("$corpus") dir
    for dir in "$SRC/tests/data/fuzz/seeds/$kind" "$BUILD/generated-seeds/$kind" \
        "$SRC/tests/data/fuzz/regressions/$kind"; do
        [ -d "$dir" ] && inputs+=("$dir")
    done
    local rc=0
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        nice -n 10 "$BUILD/fuzz/$t" "${options[@]}" "${inputs[@]}" >"$BUILD/$t.log" 2>&1 || rc=$?
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb" \
        "$BUILD/$t.log" || true
    if [ "$rc" -ne 0 ]; then
        grep -E "ERROR|SUMMARY|broken promise|Test unit written" "$BUILD/$t.log" >&2 || true
        echo "run.sh: $t FAILED (exit $rc), see $BUILD/$t.log and $artifacts/" >&2
        return 1
    fi
}

mkdir -p "$BUILD"
build_runtime
build_targets
extra_seeds
status=0
for t in "${TARGETS[@]}"; do
    run_target "$t" || status=1
done
exit $status
