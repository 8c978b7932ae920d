#!/usr/bin/env bash
# minimal.sh - examples/minimal.c, built in the main build on the shared library: its upscale
# of assets/sample.png with the default model is byte-identical to `quantsr upscale`, it prints
# nothing on stderr when all goes well (the validation layer is on), and each bad input is a
# non-zero exit with the library's status name and message, leaving no output file behind.
set -u
# shellcheck source=../cli/lib/common.sh
. "$(dirname "$0")/../cli/lib/common.sh"
setup_test cli source
EXAMPLE=${QSR_EXAMPLE_MINIMAL:?QSR_EXAMPLE_MINIMAL must name the built examples/minimal.c}
MODEL=$SRC/models/quantsr_c_x4_w4a4.qsr
SAMPLE=$SRC/assets/sample.png

# run_example ARGS...: leaves the exit code in $rc, stdout in $TMP/out, stderr in $TMP/err.
run_example() {
    "$EXAMPLE" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

run_example "$MODEL" "$SAMPLE" "$TMP/example.png"
[ "$rc" -eq 0 ] || fail "upscale: exit $rc: $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail "upscale wrote to stderr: $(cat "$TMP/err")"
grep -q "(160x160) -> .*(640x640)" "$TMP/out" || fail "upscale: unexpected stdout: $(cat "$TMP/out")"
[ "$(png_size "$TMP/example.png")" = 640x640 ] || fail "the output is not a 640x640 PNG"

if "$CLI" upscale -m "$MODEL" -i "$SAMPLE" -o "$TMP/cli.png" >/dev/null 2>"$TMP/cli_err"; then
    cmp -s "$TMP/example.png" "$TMP/cli.png" ||
        fail "examples/minimal.c and quantsr upscale disagree on assets/sample.png"
else
    fail "quantsr upscale failed: $(cat "$TMP/cli_err")"
fi

# An existing output is kept as it is.
cp "$TMP/cli.png" "$TMP/kept.png"
run_example "$MODEL" "$SAMPLE" "$TMP/kept.png"
[ "$rc" -eq 1 ] && grep -q "already exists" "$TMP/err" || fail "existing output: exit $rc: $(cat "$TMP/err")"
cmp -s "$TMP/cli.png" "$TMP/kept.png" || fail "an existing output was changed"

# A missing model, a file that is no model and an input that is no image: status and message.
run_example "$TMP/missing.qsr" "$SAMPLE" "$TMP/a.png"
[ "$rc" -eq 1 ] && grep -q "cannot load the model: QSR_ERROR_IO: .*missing.qsr" "$TMP/err" ||
    fail "missing model: exit $rc: $(cat "$TMP/err")"
run_example "$SAMPLE" "$SAMPLE" "$TMP/a.png"
[ "$rc" -eq 1 ] && grep -q "cannot load the model: QSR_ERROR_MODEL_CORRUPT: ." "$TMP/err" ||
    fail "PNG as model: exit $rc: $(cat "$TMP/err")"
echo "not an image" >"$TMP/text.png"
run_example "$MODEL" "$TMP/text.png" "$TMP/a.png"
[ "$rc" -eq 1 ] && grep -q "cannot read the input image: QSR_ERROR_IMAGE_DECODE: ." "$TMP/err" ||
    fail "text as image: exit $rc: $(cat "$TMP/err")"
[ -e "$TMP/a.png" ] && fail "a failed run left $TMP/a.png"
run_example "$MODEL" "$SAMPLE"
[ "$rc" -eq 2 ] && grep -q "usage: minimal" "$TMP/err" || fail "two arguments: exit $rc"

finish
