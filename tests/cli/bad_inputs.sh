#!/usr/bin/env bash
# bad_inputs.sh - `quantsr upscale` with broken models, images and options: each must exit 1
# with a message on stderr, create no output file (not even a temporary one) and leave an
# existing output byte-identical even with --overwrite. A good run is checked first, so a
# broken setup cannot pass for rejected inputs.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

OUT=$TMP/out # holds nothing but the output under test
mkdir -p "$OUT"
make_model "$TMP/good.qsr" --scale 2 --channels 8 --blocks 2 --seed 7
make_png "$TMP/in.png" 16 16 1

# Broken models: cut in half, wrong magic, last byte flipped (payload CRC).
size=$(wc -c <"$TMP/good.qsr")
head -c $((size / 2)) "$TMP/good.qsr" >"$TMP/truncated.qsr"
cp "$TMP/good.qsr" "$TMP/magic.qsr"
printf 'XQSR' | dd of="$TMP/magic.qsr" bs=1 seek=0 conv=notrunc 2>/dev/null
cp "$TMP/good.qsr" "$TMP/crc.qsr"
python3 -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-1] ^= 0xFF; open(p, "wb").write(d)' \
    "$TMP/crc.qsr"
cmp -s "$TMP/good.qsr" "$TMP/crc.qsr" && fail "the CRC case did not change the model"
# Broken images.
printf 'this is not a PNG file at all' >"$TMP/garbage.png"
: >"$TMP/empty.png"

# The good run: exit 0, a PNG of twice the size; --overwrite replaces an existing file.
"$CLI" upscale -i "$TMP/in.png" -o "$OUT/good.png" -m "$TMP/good.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "good run: exit $rc: $(cat "$TMP/err")"
[ "$(png_size "$OUT/good.png" 2>/dev/null)" = "32x32" ] || fail "good run: output is not a 32x32 PNG"
printf 'precious' >"$OUT/good.png"
"$CLI" upscale -i "$TMP/in.png" -o "$OUT/good.png" -m "$TMP/good.qsr" --overwrite 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "good run with --overwrite: exit $rc: $(cat "$TMP/err")"
[ "$(png_size "$OUT/good.png" 2>/dev/null)" = "32x32" ] || fail "--overwrite did not replace the output"
rm -f "$OUT/good.png"

# out_dir_holds [FILE]: the output folder holds exactly FILE (or nothing): no temporary left.
out_dir_holds() {
    local listing expected=${1:-}
    listing=$(ls -A "$OUT")
    [ "$listing" = "$expected" ]
}

# expect_rejected DESCRIPTION PATTERN OUTPUT_NAME ARGS...: two runs, into a missing output and
# over an existing one with --overwrite. Both exit 1 with PATTERN on stderr, and change nothing.
expect_rejected() {
    local what=$1 pattern=$2 name=$3
    shift 3
    local out=$OUT/$name
    rm -f "$out"
    "$CLI" upscale "$@" -o "$out" >"$TMP/stdout" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "$what: exit $rc, expected 1 (stderr: $(cat "$TMP/err"))"
    grep -qi -- "$pattern" "$TMP/err" || fail "$what: stderr lacks '$pattern': $(cat "$TMP/err")"
    grep -q '^quantsr: ' "$TMP/err" || fail "$what: no 'quantsr: ' error line"
    out_dir_holds || fail "$what: created $(ls -A "$OUT")"
    rm -f "$OUT"/* "$OUT"/.[!.]* 2>/dev/null

    printf 'precious' >"$out"
    "$CLI" upscale "$@" -o "$out" --overwrite >"$TMP/stdout" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "$what (--overwrite): exit $rc, expected 1"
    [ "$(cat "$out")" = "precious" ] || fail "$what (--overwrite): the existing output changed"
    out_dir_holds "$name" || fail "$what (--overwrite): folder holds $(ls -A "$OUT")"
    rm -f "$OUT"/* "$OUT"/.[!.]* 2>/dev/null
}

expect_rejected "truncated model" "truncated.qsr" o.png -i "$TMP/in.png" -m "$TMP/truncated.qsr"
expect_rejected "wrong magic" "magic.qsr" o.png -i "$TMP/in.png" -m "$TMP/magic.qsr"
expect_rejected "bad CRC" "crc.qsr" o.png -i "$TMP/in.png" -m "$TMP/crc.qsr"
expect_rejected "missing model" "nope.qsr" o.png -i "$TMP/in.png" -m "$TMP/nope.qsr"
expect_rejected "model is a folder" "model" o.png -i "$TMP/in.png" -m "$TMP"
expect_rejected "undecodable image" "garbage.png" o.png -i "$TMP/garbage.png" -m "$TMP/good.qsr"
expect_rejected "zero-byte image" "empty.png" o.png -i "$TMP/empty.png" -m "$TMP/good.qsr"
expect_rejected "missing input" "does not exist" o.png -i "$TMP/none.png" -m "$TMP/good.qsr"
expect_rejected "unsupported output extension" "extension" o.xyz -i "$TMP/in.png" \
    -m "$TMP/good.qsr"
expect_rejected "output without extension" "extension" noext -i "$TMP/in.png" -m "$TMP/good.qsr"
expect_rejected "-s mismatch" "x2, -s 4" o.png -i "$TMP/in.png" -m "$TMP/good.qsr" -s 4
expect_rejected "-s mismatch (-s 3)" "x2, -s 3" o.png -i "$TMP/in.png" -m "$TMP/good.qsr" -s 3
expect_rejected "depth above the blocks" "depth" o.png -i "$TMP/in.png" -m "$TMP/good.qsr" \
    --depth 5
expect_rejected "depth above the blocks (--depth-any)" "depth" o.png -i "$TMP/in.png" \
    -m "$TMP/good.qsr" --depth 3 --depth-any
expect_rejected "-f against the extension" "conflicts" o.png -i "$TMP/in.png" \
    -m "$TMP/good.qsr" -f jpg

# An existing output without --overwrite is kept, and the run fails.
printf 'precious' >"$OUT/o.png"
"$CLI" upscale -i "$TMP/in.png" -o "$OUT/o.png" -m "$TMP/good.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "existing output: exit $rc, expected 1"
grep -q "exists" "$TMP/err" || fail "existing output: stderr lacks 'exists': $(cat "$TMP/err")"
[ "$(cat "$OUT/o.png")" = "precious" ] || fail "existing output was changed without --overwrite"
out_dir_holds o.png || fail "existing output: folder holds $(ls -A "$OUT")"
rm -f "$OUT/o.png"

# The input is never overwritten, not even with --overwrite.
cp "$TMP/in.png" "$TMP/in_copy.png"
"$CLI" upscale -i "$TMP/in.png" -o "$TMP/in.png" -m "$TMP/good.qsr" --overwrite 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "output = input: exit $rc, expected 1"
grep -q "input" "$TMP/err" || fail "output = input: stderr lacks 'input': $(cat "$TMP/err")"
cmp -s "$TMP/in.png" "$TMP/in_copy.png" || fail "the input was overwritten"

finish
