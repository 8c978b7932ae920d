#!/usr/bin/env bash
# resume.sh - `quantsr upscale --resume` keeps the outputs that decode at the expected size and
# redoes missing, truncated, wrong-sized and non-image ones (folders and single files);
# --max-pixels rejects larger inputs before decoding them, and a batch goes on past them.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

# stamp PATH: modification time (ns) and inode: changes when the file is rewritten.
stamp() { stat -c '%.9Y %i' "$1"; }

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 21
mkdir -p "$TMP/in"
make_png "$TMP/in/a.png" 16 16 1
make_png "$TMP/in/b.png" 20 12 2
make_png "$TMP/in/c.png" 12 20 3
make_png "$TMP/in/d.png" 16 8 4
make_png "$TMP/in/e.png" 8 8 5
"$CLI" upscale -i "$TMP/in" -o "$TMP/ref" -m "$TMP/model.qsr" -q 2>"$TMP/err" ||
    { echo "reference batch failed: $(cat "$TMP/err")"; exit 1; }

# A folder where a.png is finished, b.png truncated, c.png the wrong size, d.png missing and
# e.png not an image at all.
cp -r "$TMP/ref" "$TMP/out"
head -c 60 "$TMP/ref/b.png" >"$TMP/out/b.png"
make_png "$TMP/out/c.png" 10 10 9
rm "$TMP/out/d.png"
printf 'not an image' >"$TMP/out/e.png"
before=$(stamp "$TMP/out/a.png")
"$CLI" upscale -i "$TMP/in" -o "$TMP/out" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--resume: exit $rc: $(cat "$TMP/err")"
grep -q "4 upscaled, 1 skipped, 0 failed" "$TMP/err" || fail "--resume summary: $(cat "$TMP/err")"
diff -r "$TMP/out" "$TMP/ref" >/dev/null || fail "--resume did not restore every output"
[ "$(stamp "$TMP/out/a.png")" = "$before" ] || fail "--resume rewrote the finished a.png"
for name in b c e; do
    grep -q "redoing '$TMP/out/$name.png'" "$TMP/err" || fail "the redo of $name.png is not reported"
done
grep -q "is 10x10, expected 24x40" "$TMP/err" ||
    fail "the wrong size of c.png is not explained: $(cat "$TMP/err")"

# A second --resume has nothing to do and opens no file for writing.
"$CLI" upscale -i "$TMP/in" -o "$TMP/out" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "second --resume: exit $rc"
grep -q "0 upscaled, 5 skipped, 0 failed" "$TMP/err" || fail "second --resume summary: $(cat "$TMP/err")"
[ "$(stamp "$TMP/out/a.png")" = "$before" ] || fail "the second --resume rewrote a.png"

# Without --resume an existing output is kept even when broken (that is what --resume is for).
printf 'broken' >"$TMP/out/b.png"
"$CLI" upscale -i "$TMP/in" -o "$TMP/out" -m "$TMP/model.qsr" 2>"$TMP/err"
[ "$(cat "$TMP/out/b.png")" = "broken" ] || fail "an existing output was replaced without --resume"

# A single file: a finished output is kept (exit 0), a broken one redone.
"$CLI" upscale -i "$TMP/in/a.png" -o "$TMP/out/a.png" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "single --resume (finished): exit $rc: $(cat "$TMP/err")"
grep -q "already finished" "$TMP/err" || fail "single --resume: no notice: $(cat "$TMP/err")"
[ "$(stamp "$TMP/out/a.png")" = "$before" ] || fail "single --resume rewrote a finished output"
"$CLI" upscale -i "$TMP/in/b.png" -o "$TMP/out/b.png" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "single --resume (broken): exit $rc: $(cat "$TMP/err")"
cmp -s "$TMP/out/b.png" "$TMP/ref/b.png" || fail "single --resume did not redo the broken output"
# ... and without --resume or --overwrite an existing output is an error that names both.
"$CLI" upscale -i "$TMP/in/b.png" -o "$TMP/out/b.png" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "single onto an existing output: exit $rc, expected 1"
grep -q -- "--resume" "$TMP/err" || fail "the existing-output error does not mention --resume"

# --max-pixels: a 16x16 input (256 pixels) passes at 256 and is rejected at 255, from its
# header, with the sizes named; in a folder only the larger images fail.
"$CLI" upscale -i "$TMP/in/a.png" -o "$TMP/max_ok.png" -m "$TMP/model.qsr" --max-pixels 256 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--max-pixels 256 on 16x16: exit $rc: $(cat "$TMP/err")"
"$CLI" upscale -i "$TMP/in/a.png" -o "$TMP/max_no.png" -m "$TMP/model.qsr" --max-pixels 255 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "--max-pixels 255 on 16x16: exit $rc, expected 1"
grep -q "16x16 (256 pixels) exceeds the limit of 255 pixels" "$TMP/err" ||
    fail "--max-pixels message: $(cat "$TMP/err")"
[ ! -e "$TMP/max_no.png" ] || fail "a rejected input produced an output"
"$CLI" upscale -i "$TMP/in" -o "$TMP/max_dir" -m "$TMP/model.qsr" --max-pixels 200 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "folder with --max-pixels 200: exit $rc, expected 1"
# a 256, b 240, c 240, d 128, e 64 pixels: d and e fit.
grep -q "2 upscaled, 0 skipped, 3 failed" "$TMP/err" || fail "--max-pixels batch: $(cat "$TMP/err")"
[ "$(ls "$TMP/max_dir" | tr '\n' ' ')" = "d.png e.png " ] || fail "--max-pixels batch wrote $(ls "$TMP/max_dir")"
"$CLI" upscale -i "$TMP/in" -o "$TMP/max_bad" -m "$TMP/model.qsr" --max-pixels lots 2>"$TMP/err"
rc=$?
[ "$rc" -eq 2 ] || fail "--max-pixels lots: exit $rc, expected 2"

finish
