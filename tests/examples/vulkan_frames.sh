#!/usr/bin/env bash
# vulkan_frames.sh - examples/vulkan_frames.c on its own instance and device (the validation
# layer on, QSR_VALIDATION=1): every frame recorded with qsr_cmd_upscale, at a depth changing
# from frame to frame with two frames in flight, is byte-identical to qsr_upscaler_run of the
# same pixels (--verify); it writes one PPM per frame of the upscaled size, the scene moves,
# nothing is printed on stderr, and bad arguments are a usage error or a message.
set -u
# shellcheck source=../cli/lib/common.sh
. "$(dirname "$0")/../cli/lib/common.sh"
setup_test source
EXAMPLE=${QSR_EXAMPLE_VULKAN_FRAMES:?QSR_EXAMPLE_VULKAN_FRAMES must name the built example}
MODEL=$SRC/models/quantsr_c_x4_w4a4.qsr
FRAMES=5

mkdir "$TMP/frames"
"$EXAMPLE" "$MODEL" "$TMP/frames" --frames $FRAMES --size 40x24 --verify >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no Vulkan device" "$TMP/err"; then
    echo "skip: $(cat "$TMP/err")"
    exit 77
fi
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail "wrote to stderr: $(cat "$TMP/err")"
identical=$(grep -c "identical to qsr_upscaler_run" "$TMP/out")
[ "$identical" -eq $FRAMES ] || fail "$identical of $FRAMES frames identical: $(cat "$TMP/out")"
# The depth cycles through the model's levels (8, 5, 3): no two consecutive frames share one.
depths=$(sed -n 's/^frame [0-9]* depth \([0-9]*\):.*/\1/p' "$TMP/out" | tr '\n' ' ')
[ "$depths" = "8 5 3 8 5 " ] || fail "depths per frame: '$depths', expected '8 5 3 8 5 '"
for i in $(seq 0 $((FRAMES - 1))); do
    f=$TMP/frames/$(printf 'frame_%03d.ppm' "$i")
    [ "$(head -c 14 "$f" 2>/dev/null | tr '\n' ' ')" = "P6 160 96 255 " ] || fail "$f is not a 160x96 PPM"
    [ "$(stat -c %s "$f" 2>/dev/null)" = $((14 + 160 * 96 * 3)) ] || fail "$f has the wrong size"
done
cmp -s "$TMP/frames/frame_000.ppm" "$TMP/frames/frame_001.ppm" && fail "the scene does not move"

# Usage errors, a missing model, an output folder that does not exist.
"$EXAMPLE" "$MODEL" >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "usage: vulkan_frames" "$TMP/err" || fail "one argument: exit $rc"
"$EXAMPLE" "$MODEL" "$TMP/frames" --size 0x4 >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] || fail "--size 0x4 was accepted"
"$EXAMPLE" "$TMP/missing.qsr" "$TMP/frames" >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot load the model: QSR_ERROR_IO" "$TMP/err" ||
    fail "missing model: exit $rc: $(cat "$TMP/err")"
"$EXAMPLE" "$MODEL" "$TMP/no/such/folder" --frames 1 --size 8x8 >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot write" "$TMP/err" || fail "missing folder: exit $rc: $(cat "$TMP/err")"

finish
