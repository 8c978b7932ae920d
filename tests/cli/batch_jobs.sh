#!/usr/bin/env bash
# batch_jobs.sh - `quantsr upscale -j LOAD:PROC:SAVE` overlaps decoding, upscaling and encoding
# of a folder without changing anything a user sees: every -j writes byte-identical outputs,
# prints the same messages in the same (input) order, counts the same summary and exits with
# the same code as the serial loop (-j 0:1:0), a corrupt input included, and under --resume.
# Bad -j values are usage errors. `bench --batch DIR --json` reports its documented keys and
# leaves no file behind. Speed is never asserted.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

# listing DIR: the file names of DIR on one line, hidden files included.
listing() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
# normalized FILE OUT: stderr without the times, which differ from run to run, and with the
# output folder OUT written as OUT.
normalized() { sed -E "s|$2/|OUT/|g; s/\([0-9]+ ms\)/(T ms)/; s/ in [0-9.]+ s\$/ in T s/" "$1"; }

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 17
mkdir -p "$TMP/in"
make_png "$TMP/in/a.png" 16 16 1
make_png "$TMP/in/b.png" 24 16 2
printf 'corrupt' >"$TMP/in/c.png"
make_png "$TMP/in/d.png" 20 12 3
make_png "$TMP/in/e.png" 12 20 4
make_png "$TMP/in/f.png" 8 8 5
printf 'not an image' >"$TMP/in/notes.txt"

# The serial loop is the reference.
"$CLI" upscale -i "$TMP/in" -o "$TMP/serial" -m "$TMP/model.qsr" -j 0:1:0 2>"$TMP/serial.err"
rc=$?
[ "$rc" -eq 1 ] || fail "-j 0:1:0 with a corrupt image: exit $rc, expected 1: $(cat "$TMP/serial.err")"
[ "$(listing "$TMP/serial")" = "a.png b.png d.png e.png f.png" ] ||
    fail "-j 0:1:0 wrote '$(listing "$TMP/serial")'"
grep -q "5 upscaled, 0 skipped, 1 failed" "$TMP/serial.err" ||
    fail "-j 0:1:0 summary: $(cat "$TMP/serial.err")"
# Input order: progress line k names the k-th image.
[ "$(grep -o '^\[[0-9]/6\] [a-f].png' "$TMP/serial.err" | tr '\n' ' ')" = \
    "[1/6] a.png [2/6] b.png [3/6] c.png [4/6] d.png [5/6] e.png [6/6] f.png " ] ||
    fail "-j 0:1:0 progress lines: $(cat "$TMP/serial.err")"

for jobs in 2:1:2 1:1:1 0:1:3 3:1:0 default; do
    out="$TMP/out_${jobs//:/_}"
    if [ "$jobs" = default ]; then
        "$CLI" upscale -i "$TMP/in" -o "$out" -m "$TMP/model.qsr" 2>"$TMP/err"
    else
        "$CLI" upscale -i "$TMP/in" -o "$out" -m "$TMP/model.qsr" -j "$jobs" 2>"$TMP/err"
    fi
    rc=$?
    [ "$rc" -eq 1 ] || fail "-j $jobs with a corrupt image: exit $rc, expected 1: $(cat "$TMP/err")"
    diff -r "$out" "$TMP/serial" >/dev/null || fail "-j $jobs outputs differ from -j 0:1:0"
    [ "$(listing "$out")" = "$(listing "$TMP/serial")" ] || fail "-j $jobs wrote '$(listing "$out")'"
    [ "$(normalized "$TMP/err" "$out")" = "$(normalized "$TMP/serial.err" "$TMP/serial")" ] ||
        fail "-j $jobs messages differ from -j 0:1:0: $(cat "$TMP/err")"
done

# --resume: finished outputs kept, broken and missing ones redone, as in the serial loop.
for jobs in 0:1:0 2:1:2; do
    out="$TMP/resume_${jobs//:/_}"
    cp -r "$TMP/serial" "$out"
    head -c 40 "$TMP/serial/b.png" >"$out/b.png"
    rm "$out/e.png"
    "$CLI" upscale -i "$TMP/in" -o "$out" -m "$TMP/model.qsr" -j "$jobs" --resume 2>"$TMP/resume_$jobs.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "--resume -j $jobs: exit $rc, expected 1 (c.png): $(cat "$TMP/resume_$jobs.err")"
    grep -q "2 upscaled, 3 skipped, 1 failed" "$TMP/resume_$jobs.err" ||
        fail "--resume -j $jobs summary: $(cat "$TMP/resume_$jobs.err")"
    diff -r "$out" "$TMP/serial" >/dev/null || fail "--resume -j $jobs did not restore every output"
done
[ "$(normalized "$TMP/resume_2:1:2.err" "$TMP/resume_2_1_2")" = \
    "$(normalized "$TMP/resume_0:1:0.err" "$TMP/resume_0_1_0")" ] ||
    fail "--resume messages differ between -j 2:1:2 and -j 0:1:0: $(cat "$TMP/resume_2:1:2.err")"

# Bad -j values: a usage error (exit 2) that names the option, and nothing is written.
for bad in 1:2:1 1:0:1 x 1:1 1:1:1:1 17:1:1 1:1:17 -1:1:1 1::1 :1:1 1:1: 1:1:x; do
    "$CLI" upscale -i "$TMP/in" -o "$TMP/bad" -m "$TMP/model.qsr" -j "$bad" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "-j $bad: exit $rc, expected 2"
    grep -q -- "-j" "$TMP/err" || fail "-j $bad: the error does not name -j: $(cat "$TMP/err")"
    [ ! -e "$TMP/bad" ] || fail "-j $bad created the output folder"
done
"$CLI" upscale -i "$TMP/in" -o "$TMP/bad" -m "$TMP/model.qsr" -j 1:2:1 2>"$TMP/err"
grep -q "PROC must be 1" "$TMP/err" || fail "-j 1:2:1 does not say why: $(cat "$TMP/err")"

# bench --batch: the documented keys, consistent values, and its temporary folder removed.
mkdir -p "$TMP/bench_in" "$TMP/tmpdir"
cp "$TMP/in/a.png" "$TMP/in/b.png" "$TMP/in/f.png" "$TMP/bench_in/"
TMPDIR="$TMP/tmpdir" "$CLI" bench -m "$TMP/model.qsr" --batch "$TMP/bench_in" -j 2:1:2 --compare \
    --runs 2 --json >"$TMP/bench.json" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "bench --batch --json: exit $rc: $(cat "$TMP/err")"
[ -z "$(ls -A "$TMP/tmpdir")" ] || fail "bench --batch left '$(ls -A "$TMP/tmpdir")' in TMPDIR"
python3 - "$TMP/bench.json" <<'PY' || fail "bench --batch --json: see above"
import json, math, sys
bench = json.load(open(sys.argv[1]))
errors = []
for k in ["model", "device", "batch", "images", "runs", "pipelined", "serial", "speedup"]:
    if k not in bench:
        errors.append("missing key %s" % k)
if not errors:
    if (bench["images"], bench["runs"]) != (3, 2):
        errors.append("images/runs %r" % ((bench["images"], bench["runs"]),))
    for name, jobs in (("pipelined", "2:1:2"), ("serial", "0:1:0")):
        r = bench[name]
        keys = ["jobs", "images_per_s", "wall_ms", "load_ms", "upscale_ms", "save_ms", "gpu_ms", "failed"]
        missing = [k for k in keys if k not in r]
        if missing:
            errors.append("%s: missing %r" % (name, missing))
            continue
        if r["jobs"] != jobs:
            errors.append("%s: jobs %r, expected %r" % (name, r["jobs"], jobs))
        if not (r["images_per_s"] > 0 and r["wall_ms"] > 0 and r["load_ms"] > 0
                and r["upscale_ms"] > 0 and r["save_ms"] > 0 and r["gpu_ms"] >= 0):
            errors.append("%s: %r" % (name, r))
        if r["failed"] != 0:
            errors.append("%s: %d failed" % (name, r["failed"]))
    if not errors and not math.isclose(
            bench["speedup"], bench["pipelined"]["images_per_s"] / bench["serial"]["images_per_s"],
            rel_tol=1e-6):
        errors.append("speedup %r" % bench["speedup"])
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
# A corrupt image is named and fails the bench; -j goes with --batch only.
cp "$TMP/in/c.png" "$TMP/bench_in/"
TMPDIR="$TMP/tmpdir" "$CLI" bench -m "$TMP/model.qsr" --batch "$TMP/bench_in" --json \
    >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "bench --batch with a corrupt image: exit $rc, expected 1"
grep -q "c.png: cannot read" "$TMP/err" || fail "bench --batch does not name c.png: $(cat "$TMP/err")"
[ -z "$(ls -A "$TMP/tmpdir")" ] || fail "bench --batch (corrupt) left '$(ls -A "$TMP/tmpdir")'"
"$CLI" bench -m "$TMP/model.qsr" -j 1:1:1 2>"$TMP/err"
rc=$?
[ "$rc" -eq 2 ] || fail "bench -j without --batch: exit $rc, expected 2"
"$CLI" bench -m "$TMP/model.qsr" --batch "$TMP/bench_in" -j 1:3:1 2>"$TMP/err"
rc=$?
[ "$rc" -eq 2 ] || fail "bench --batch -j 1:3:1: exit $rc, expected 2"

finish
