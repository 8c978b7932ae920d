#!/usr/bin/env bash
# batch.sh - `quantsr upscale` on folders: a corrupt image fails alone (the others are written,
# the exit status is 1, the summary counts it); --shard K/N partitions the sorted images;
# existing outputs are skipped unless --overwrite; -f picks the format; inputs are never
# overwritten.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

# listing DIR: the file names of DIR on one line, hidden files included.
listing() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 11
mkdir -p "$TMP/in"
make_png "$TMP/in/a.png" 16 16 1
make_png "$TMP/in/b.png" 24 16 2
printf 'corrupt' >"$TMP/in/c.png"
printf 'not an image' >"$TMP/in/notes.txt" # not an image extension: ignored

# The whole folder: a and b written at twice their size, c fails, exit 1.
"$CLI" upscale -i "$TMP/in" -o "$TMP/all" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "batch with a corrupt image: exit $rc, expected 1"
[ "$(listing "$TMP/all")" = "a.png b.png" ] || fail "batch wrote '$(listing "$TMP/all")'"
[ "$(png_size "$TMP/all/a.png")" = "32x32" ] || fail "a.png is not 32x32"
[ "$(png_size "$TMP/all/b.png")" = "48x32" ] || fail "b.png is not 48x32"
grep -q "c.png" "$TMP/err" || fail "the failure does not name c.png: $(cat "$TMP/err")"
grep -q "2 upscaled, 0 skipped, 1 failed" "$TMP/err" ||
    fail "summary does not count the failure: $(cat "$TMP/err")"
# Without a terminal, one line per image.
[ "$(grep -c '^\[[0-9]/3\]' "$TMP/err")" -eq 3 ] || fail "expected 3 progress lines: $(cat "$TMP/err")"

# Shards: 1/2 takes the sorted indices 0 and 2 (a, c), 2/2 takes index 1 (b).
"$CLI" upscale -i "$TMP/in" -o "$TMP/s1" -m "$TMP/model.qsr" --shard 1/2 2>"$TMP/err1"
rc1=$?
"$CLI" upscale -i "$TMP/in" -o "$TMP/s2" -m "$TMP/model.qsr" --shard 2/2 2>"$TMP/err2"
rc2=$?
[ "$rc1" -eq 1 ] || fail "shard 1/2 (holds the corrupt c.png): exit $rc1, expected 1"
[ "$rc2" -eq 0 ] || fail "shard 2/2: exit $rc2, expected 0: $(cat "$TMP/err2")"
[ "$(listing "$TMP/s1")" = "a.png" ] || fail "shard 1/2 wrote '$(listing "$TMP/s1")'"
[ "$(listing "$TMP/s2")" = "b.png" ] || fail "shard 2/2 wrote '$(listing "$TMP/s2")'"
grep -q "shard 1/2" "$TMP/err1" || fail "shard 1/2 summary: $(cat "$TMP/err1")"
cmp -s "$TMP/s1/a.png" "$TMP/all/a.png" || fail "shard 1/2 a.png differs from the full batch"
cmp -s "$TMP/s2/b.png" "$TMP/all/b.png" || fail "shard 2/2 b.png differs from the full batch"
# A shard with no image of its own succeeds with nothing to do.
"$CLI" upscale -i "$TMP/in" -o "$TMP/s4" -m "$TMP/model.qsr" --shard 4/4 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "empty shard 4/4: exit $rc: $(cat "$TMP/err")"
[ ! -e "$TMP/s4" ] || fail "empty shard 4/4 created its output folder"

# Existing outputs are skipped (and kept) without --overwrite.
rm "$TMP/in/c.png"
mkdir -p "$TMP/keep"
printf 'precious' >"$TMP/keep/a.png"
"$CLI" upscale -i "$TMP/in" -o "$TMP/keep" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "batch with an existing output: exit $rc, expected 0: $(cat "$TMP/err")"
[ "$(cat "$TMP/keep/a.png")" = "precious" ] || fail "an existing output was replaced"
[ "$(png_size "$TMP/keep/b.png")" = "48x32" ] || fail "b.png was not written next to the skip"
grep -q "skipped" "$TMP/err" || fail "the skip is not reported: $(cat "$TMP/err")"
grep -q "1 upscaled, 1 skipped, 0 failed" "$TMP/err" || fail "summary: $(cat "$TMP/err")"
# ... and replaced with --overwrite.
"$CLI" upscale -i "$TMP/in" -o "$TMP/keep" -m "$TMP/model.qsr" --overwrite -q 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "batch --overwrite: exit $rc: $(cat "$TMP/err")"
cmp -s "$TMP/keep/a.png" "$TMP/all/a.png" || fail "--overwrite did not rewrite a.png"
[ ! -s "$TMP/err" ] || fail "-q printed: $(cat "$TMP/err")"

# -f jpg writes <stem>.jpg.
"$CLI" upscale -i "$TMP/in" -o "$TMP/jpg" -m "$TMP/model.qsr" -f jpg 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "-f jpg: exit $rc: $(cat "$TMP/err")"
[ "$(listing "$TMP/jpg")" = "a.jpg b.jpg" ] || fail "-f jpg wrote '$(listing "$TMP/jpg")'"
head -c 2 "$TMP/jpg/a.jpg" | od -An -tx1 | grep -q "ff d8" || fail "a.jpg is not a JPEG"

# Output folder = input folder: a.png -> a.png would replace its input: refused, inputs intact.
cp -r "$TMP/in" "$TMP/in_before"
"$CLI" upscale -i "$TMP/in" -o "$TMP/in" -m "$TMP/model.qsr" --overwrite 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "output folder = input folder: exit $rc, expected 1"
grep -q "input" "$TMP/err" || fail "in-place refusal not explained: $(cat "$TMP/err")"
diff -r "$TMP/in" "$TMP/in_before" >/dev/null || fail "an input was overwritten"

# Two inputs with the same stem would write the same output: the second is refused.
mkdir -p "$TMP/dup"
make_png "$TMP/dup/x.png" 16 16 3
cp "$TMP/dup/x.png" "$TMP/dup/x.bmp.png" # stem x.bmp: a different output, fine
cp "$TMP/dup/x.png" "$TMP/dup/x.tga" # content is PNG: decoded by content, written as x.png
"$CLI" upscale -i "$TMP/dup" -o "$TMP/dup_out" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "same-stem inputs: exit $rc, expected 1"
[ "$(listing "$TMP/dup_out")" = "x.bmp.png x.png" ] || fail "same stem wrote '$(listing "$TMP/dup_out")'"
grep -q "x.tga" "$TMP/err" || fail "same-stem refusal does not name x.tga: $(cat "$TMP/err")"

# A file into an existing folder lands as <folder>/<stem>.<format>.
mkdir -p "$TMP/one"
"$CLI" upscale -i "$TMP/in/b.png" -o "$TMP/one" -f bmp -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "file into a folder: exit $rc: $(cat "$TMP/err")"
[ "$(listing "$TMP/one")" = "b.bmp" ] || fail "file into a folder wrote '$(listing "$TMP/one")'"
# A folder into a name that looks like an image file is refused (no folder 'x.png' appears).
"$CLI" upscale -i "$TMP/in" -o "$TMP/x.png" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "folder into x.png: exit $rc, expected 1"
[ ! -e "$TMP/x.png" ] || fail "folder into x.png created it"

# An empty folder is an error.
mkdir -p "$TMP/empty"
"$CLI" upscale -i "$TMP/empty" -o "$TMP/empty_out" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "empty folder: exit $rc, expected 1"
grep -q "no images" "$TMP/err" || fail "empty folder message: $(cat "$TMP/err")"

finish
