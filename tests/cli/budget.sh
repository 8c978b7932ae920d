#!/usr/bin/env bash
# budget.sh - `upscale --budget-ms T` picks a depth level per image: a generous budget runs
# every block (the same bytes as a plain run), a budget of 1 ms the shallowest level (the same
# bytes as --depth 1); with --depth it is a usage error.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

"$MAKE_MODEL" "$TMP/m.qsr" --scale 2 --channels 16 --blocks 4 --seed 9 >/dev/null || fail "model"
make_png "$TMP/in.png" 48 40 3

"$CLI" upscale -m "$TMP/m.qsr" -i "$TMP/in.png" -o "$TMP/full.png" 2>/dev/null || fail "plain run"
"$CLI" upscale -m "$TMP/m.qsr" -i "$TMP/in.png" -o "$TMP/d1.png" --depth 1 2>/dev/null || fail "--depth 1"
"$CLI" upscale -m "$TMP/m.qsr" -i "$TMP/in.png" -o "$TMP/big.png" --budget-ms 1000000 2>"$TMP/big.log" ||
    fail "--budget-ms 1000000: $(cat "$TMP/big.log")"
grep -q "depth 4 of 4 fits" "$TMP/big.log" || fail "generous budget: $(cat "$TMP/big.log")"
cmp -s "$TMP/full.png" "$TMP/big.png" || fail "a generous budget changed the output"
"$CLI" upscale -m "$TMP/m.qsr" -i "$TMP/in.png" -o "$TMP/tiny.png" --budget-ms 1 2>"$TMP/tiny.log" ||
    fail "--budget-ms 1: $(cat "$TMP/tiny.log")"
# On lavapipe even the shallowest level takes longer than 1 ms: it runs anyway (a fast GPU
# may fit it).
grep -Eq "no depth level fits the 1 ms budget.*depth 1 |depth 1 of 4 fits" "$TMP/tiny.log" ||
    fail "tiny budget: $(cat "$TMP/tiny.log")"
cmp -s "$TMP/d1.png" "$TMP/tiny.png" || fail "budget depth 1 differs from --depth 1"
"$CLI" upscale -m "$TMP/m.qsr" -i "$TMP/in.png" -o "$TMP/x.png" --budget-ms 5 --depth 2 2>/dev/null
[ $? -eq 2 ] || fail "--budget-ms with --depth was accepted"
[ ! -e "$TMP/x.png" ] || fail "an output was written for a bad command line"

finish
