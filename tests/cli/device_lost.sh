#!/usr/bin/env bash
# device_lost.sh - a batch goes on after an image fails with a lost device: with
# QSR_FAULT=lost:N+ (runtime/fault.h) every submission from the Nth on loses the device, so the
# runtime's own retry on a recreated device fails too and the image fails; the CLI then opens a
# new context (whose fault counts start again) for the next image. The failed image leaves no
# file, the others equal a fault-free run, and the summary and exit code count the failure.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 13
mkdir -p "$TMP/in"
make_png "$TMP/in/a.png" 24 24 1
make_png "$TMP/in/b.png" 24 24 2
make_png "$TMP/in/c.png" 24 24 3
"$CLI" upscale -i "$TMP/in" -o "$TMP/ref" -m "$TMP/model.qsr" -q 2>"$TMP/err" ||
    { echo "fault-free batch failed: $(cat "$TMP/err")"; exit 1; }

# N = the submissions one context makes for one image (its setup included) + 1: the first
# lost:N+ under which a single image still succeeds.
first_ok=0
for n in $(seq 1 40); do
    if QSR_FAULT=lost:$n+ "$CLI" upscale -i "$TMP/in/a.png" -o "$TMP/probe.png" \
        -m "$TMP/model.qsr" --overwrite -q 2>/dev/null; then
        first_ok=$n
        break
    fi
done
[ "$first_ok" -gt 1 ] || { echo "no lost:N+ between 2 and 40 lets one image through"; exit 1; }

# a uses submissions 1..N-1, b starts at N and fails even on the recreated device, c runs on a
# new context.
QSR_FAULT=lost:$first_ok+ "$CLI" upscale -i "$TMP/in" -o "$TMP/out" -m "$TMP/model.qsr" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "batch with a lost device: exit $rc, expected 1: $(cat "$TMP/err")"
grep -q "2 upscaled, 0 skipped, 1 failed" "$TMP/err" || fail "summary: $(cat "$TMP/err")"
grep -q "b.png: cannot upscale" "$TMP/err" || fail "the failure does not name b.png: $(cat "$TMP/err")"
grep -qi "lost" "$TMP/err" || fail "the failure does not say the device was lost: $(cat "$TMP/err")"
[ "$(ls -A "$TMP/out" | tr '\n' ' ')" = "a.png c.png " ] ||
    fail "the batch left '$(ls -A "$TMP/out" | tr '\n' ' ')', expected a.png and c.png only"
cmp -s "$TMP/out/a.png" "$TMP/ref/a.png" || fail "a.png differs from a fault-free run"
cmp -s "$TMP/out/c.png" "$TMP/ref/c.png" || fail "c.png (after the lost device) differs"

echo "device_lost.sh: first surviving fault setting QSR_FAULT=lost:$first_ok+"
finish
