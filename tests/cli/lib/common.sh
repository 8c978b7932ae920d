# shellcheck shell=bash
# common.sh - set-up and helpers shared by the shell tests in tests/cli (sourced, not run by
# ctest). A test starts with
#     set -u
#     . "$(dirname "$0")/lib/common.sh"
#     setup_test cli make_model      # what it needs, see below
# records each failed check with `fail MESSAGE` (the test goes on) and ends with `finish`.

# setup_test [cli] [make_model] [source]: always makes TMP, a scratch folder removed on exit,
# and zeroes the failure count. cli: CLI, the quantsr binary ($QSR_CLI). make_model: MAKE_MODEL,
# the build's make_random_model helper ($QSR_BINARY_DIR); the test is skipped (exit 77) when it
# is not built. source: SRC, the source tree ($QSR_SOURCE_DIR). A missing variable stops the
# test with a message.
setup_test() {
    local need
    # shellcheck disable=SC2034 # CLI, MAKE_MODEL and SRC are for the sourcing test
    for need in "$@"; do
        case $need in
        cli) CLI=${QSR_CLI:?QSR_CLI must name the quantsr binary} ;;
        make_model)
            MAKE_MODEL=${QSR_BINARY_DIR:?QSR_BINARY_DIR must name the build folder}/make_random_model
            if [ ! -x "$MAKE_MODEL" ]; then
                echo "skip: $MAKE_MODEL is missing"
                exit 77
            fi
            ;;
        source) SRC=${QSR_SOURCE_DIR:?QSR_SOURCE_DIR must name the source tree} ;;
        *)
            echo "setup_test: unknown need '$need'" >&2
            exit 1
            ;;
        esac
    done
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    failures=0
}

# fail MESSAGE: records a failed check on stderr; the test goes on.
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# finish: the verdict: exit 1 after any failed check, else "NAME: all checks passed".
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$(basename "$0"): $failures failure(s)"
        exit 1
    fi
    echo "$(basename "$0"): all checks passed"
}

# make_model PATH ARGS...: make_random_model PATH ARGS...; a failure ends the test (exit 1).
make_model() {
    "$MAKE_MODEL" "$@" >/dev/null || {
        echo "make_random_model failed"
        exit 1
    }
}

# make_png PATH WIDTH HEIGHT SEED: a random RGB PNG (Python standard library only).
make_png() {
    python3 - "$@" <<'PY'
import random, struct, sys, zlib
path, w, h, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
raw = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(3 * w)) for _ in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
}

# png_size PATH: "WxH" from the PNG header; nothing (and a non-zero status) for a non-PNG.
png_size() {
    python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(24)
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1" 2>/dev/null
}
