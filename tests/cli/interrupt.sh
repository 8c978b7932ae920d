#!/usr/bin/env bash
# interrupt.sh - stop signals during a `quantsr upscale` batch: SIGINT (Ctrl-C) and SIGTERM
# finish the image in flight, start no other, print a summary and exit 128 + the signal; a
# second Ctrl-C stops at once; no temporary or partial file is ever left in the output folder;
# --resume then finishes the batch with the same files as an uninterrupted run, and removes
# the temporaries of a killed run.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model
# Background jobs of a script ignore SIGINT unless job control is on (and quantsr keeps a
# signal ignored that was ignored when it started, as nohup expects).
set -m

# complete_png PATH: prints WxH if PATH is a whole 8-bit RGB/RGBA PNG (every row inflates).
complete_png() {
    python3 - "$1" <<'PY' 2>/dev/null
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w, h, channels = 8, b"", 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    assert len(body) == length
    if kind == b"IHDR":
        w, h, depth, color = struct.unpack(">IIBB", body[:10])
        channels = {2: 3, 6: 4}[color]
    elif kind == b"IDAT":
        idat += body
    elif kind == b"IEND":
        break
    pos += 12 + length
assert kind == b"IEND"
assert len(zlib.decompress(idat)) == h * (1 + w * channels)
print("%dx%d" % (w, h))
PY
}

# hidden_files DIR: the names of DIR that start with a dot (temporaries), on one line.
hidden_files() { ls -A "$1" | grep '^\.' | tr '\n' ' '; }

# start_batch OUT EXTRA...: starts the batch in the background ($pid), stderr in $TMP/err.
start_batch() {
    local out=$1
    shift
    "$CLI" upscale -i "$TMP/in" -o "$out" -m "$TMP/model.qsr" "$@" 2>"$TMP/err" &
    pid=$!
}

# wait_for_file PATH: up to 120 s (sanitizer builds are slow).
wait_for_file() {
    for _ in $(seq 1200); do
        [ -e "$1" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# check_outputs DIR: every output is a complete 96x96 PNG; prints how many there are.
check_outputs() {
    local n=0 f
    for f in "$1"/*.png; do
        [ -e "$f" ] || continue
        [ "$(complete_png "$f")" = "96x96" ] || fail "$f is not a complete 96x96 PNG"
        n=$((n + 1))
    done
    echo "$n"
}

# A model deep enough that one 48x48 image takes a noticeable time on lavapipe.
make_model "$TMP/model.qsr" --scale 2 --channels 32 --blocks 4 --seed 5
mkdir -p "$TMP/in"
for i in 0 1 2 3 4 5 6 7; do make_png "$TMP/in/$i.png" 48 48 "$i"; done

# The uninterrupted run every resumed one must match.
"$CLI" upscale -i "$TMP/in" -o "$TMP/ref" -m "$TMP/model.qsr" -q 2>"$TMP/err" ||
    { echo "reference batch failed: $(cat "$TMP/err")"; exit 1; }

# interrupt_once SIGNAL EXPECTED_RC OUT: one stop signal once the first output exists.
interrupt_once() {
    local sig=$1 expected=$2 out=$3
    start_batch "$out"
    wait_for_file "$out/0.png" || fail "$sig: the batch never wrote its first image"
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq "$expected" ] || fail "$sig: exit $rc, expected $expected: $(cat "$TMP/err")"
    grep -q "interrupted by SIG$sig" "$TMP/err" || fail "$sig: no interruption notice: $(cat "$TMP/err")"
    grep -q "not run" "$TMP/err" || fail "$sig: the summary does not count the rest: $(cat "$TMP/err")"
    [ -z "$(hidden_files "$out")" ] || fail "$sig: temporaries left: $(hidden_files "$out")"
    done_count=$(check_outputs "$out")
    [ "$done_count" -ge 1 ] && [ "$done_count" -lt 8 ] ||
        fail "$sig: $done_count outputs, expected some but not all 8"
    grep -q "$done_count upscaled" "$TMP/err" || fail "$sig: summary vs $done_count files: $(cat "$TMP/err")"
}

interrupt_once INT 130 "$TMP/int"
# --resume finishes the batch: the finished outputs are kept, the others made, all equal to
# the uninterrupted run.
kept=$done_count
"$CLI" upscale -i "$TMP/in" -o "$TMP/int" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--resume after SIGINT: exit $rc: $(cat "$TMP/err")"
grep -q "$((8 - kept)) upscaled, $kept skipped, 0 failed" "$TMP/err" ||
    fail "--resume summary (expected $kept kept): $(cat "$TMP/err")"
diff -r "$TMP/int" "$TMP/ref" >/dev/null || fail "resumed outputs differ from an uninterrupted run"

interrupt_once TERM 143 "$TMP/term"

# A second Ctrl-C stops at once, still without leaving a temporary file.
start_batch "$TMP/twice"
wait_for_file "$TMP/twice/0.png" || fail "double SIGINT: the batch never wrote its first image"
kill -INT "$pid"
sleep 0.05
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "double SIGINT: exit $rc, expected 130 (killed by SIGINT)"
[ -z "$(hidden_files "$TMP/twice")" ] || fail "double SIGINT left: $(hidden_files "$TMP/twice")"
check_outputs "$TMP/twice" >/dev/null

# The temporary of a killed run (its process is gone) is removed by the next run; one of a
# running process (a parallel shard) is kept.
sleep 0 &
dead_pid=$!
wait "$dead_pid"
printf 'half a png' >"$TMP/twice/.5.png.tmp-$dead_pid-0"
printf 'being written' >"$TMP/twice/.6.png.tmp-$$-0"
"$CLI" upscale -i "$TMP/in" -o "$TMP/twice" -m "$TMP/model.qsr" --resume 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--resume after a double SIGINT: exit $rc: $(cat "$TMP/err")"
[ ! -e "$TMP/twice/.5.png.tmp-$dead_pid-0" ] || fail "the stale temporary was not removed"
[ -e "$TMP/twice/.6.png.tmp-$$-0" ] || fail "the temporary of a running process was removed"
grep -q "removed 1 stale temporary file" "$TMP/err" || fail "removal not reported: $(cat "$TMP/err")"
rm -f "$TMP/twice/.6.png.tmp-$$-0"
diff -r "$TMP/twice" "$TMP/ref" >/dev/null || fail "outputs after a double SIGINT and --resume differ"

finish
