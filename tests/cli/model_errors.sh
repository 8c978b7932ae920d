#!/usr/bin/env bash
# model_errors.sh - the make_random_model helper that the other shell tests and the benchmark
# rely on: it writes loadable, seed-deterministic models for every option and refuses bad
# options with a message and no output file.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test make_model

# u32 PATH OFFSET: a little-endian header field.
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }

# Every option lands in the header (scale 16, channels 24, blocks 28, bits_w 32, bits_a 36).
"$MAKE_MODEL" "$TMP/a.qsr" --scale 3 --channels 6 --blocks 5 --bits-w 2 --bits-a 4 --seed 3 \
    --per-channel-step || fail "a valid model was refused"
if [ -f "$TMP/a.qsr" ]; then
    [ "$(head -c 4 "$TMP/a.qsr")" = "QSRM" ] || fail "no QSRM magic"
    fields="$(u32 "$TMP/a.qsr" 16) $(u32 "$TMP/a.qsr" 24) $(u32 "$TMP/a.qsr" 28)"
    fields="$fields $(u32 "$TMP/a.qsr" 32) $(u32 "$TMP/a.qsr" 36)"
    [ "$fields" = "3 6 5 2 4" ] || fail "header fields are '$fields', expected '3 6 5 2 4'"
    # payload_bytes (offset 96, low word) is the file size - 256.
    size=$(wc -c <"$TMP/a.qsr")
    [ "$(u32 "$TMP/a.qsr" 96)" = $((size - 256)) ] || fail "payload_bytes does not match the size"
fi

# Deterministic in the seed.
"$MAKE_MODEL" "$TMP/b.qsr" --seed 9 && "$MAKE_MODEL" "$TMP/c.qsr" --seed 9 &&
    "$MAKE_MODEL" "$TMP/d.qsr" --seed 10 || fail "default models were refused"
cmp -s "$TMP/b.qsr" "$TMP/c.qsr" || fail "the same seed wrote different files"
cmp -s "$TMP/b.qsr" "$TMP/d.qsr" && fail "different seeds wrote the same file"
"$MAKE_MODEL" "$TMP/f.qsr" --bits-w 32 --bits-a 32 || fail "a float model was refused"

# Bad options: exit non-zero, say something, write nothing.
check_refused() {
    local name=$1
    shift
    rm -f "$TMP/bad.qsr"
    if "$MAKE_MODEL" "$TMP/bad.qsr" "$@" 2>"$TMP/err"; then
        fail "$name: accepted"
    fi
    [ -s "$TMP/err" ] || fail "$name: no message"
    [ -e "$TMP/bad.qsr" ] && fail "$name: wrote a file"
}
check_refused "scale 5" --scale 5
check_refused "channels 0" --channels 0
check_refused "channels 300" --channels 300
check_refused "blocks 65" --blocks 65
check_refused "bits 5" --bits-w 5
check_refused "bits_a 32 alone" --bits-w 4 --bits-a 32
check_refused "non-number" --blocks four
check_refused "missing value" --seed
check_refused "unknown option" --depth 3
"$MAKE_MODEL" 2>"$TMP/err" && fail "no output path: accepted"
[ -s "$TMP/err" ] || fail "no output path: no message"

finish
