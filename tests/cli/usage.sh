#!/usr/bin/env bash
# usage.sh - the command line's help, version and usage errors (no model, no device needed).
# Usage errors exit 2 with the usage on stderr and nothing on stdout; help exits 0 on stdout.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli source

# run_cli ARGS...: runs quantsr, leaving the exit code in $rc and the streams in files.
run_cli() {
    "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

# expect_usage_error DESCRIPTION PATTERN ARGS...: exit 2, PATTERN and "usage" on stderr.
expect_usage_error() {
    local what=$1 pattern=$2
    shift 2
    run_cli "$@"
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
    grep -qi -- "$pattern" "$TMP/err" || fail "$what: stderr lacks '$pattern': $(cat "$TMP/err")"
    grep -qi "usage" "$TMP/err" || fail "$what: no usage on stderr"
    [ ! -s "$TMP/out" ] || fail "$what: wrote to stdout: $(cat "$TMP/out")"
}

# Top-level help lists every command.
run_cli --help
[ "$rc" -eq 0 ] || fail "--help exit $rc"
for cmd in upscale eval info devices bench; do
    grep -q "^  $cmd " "$TMP/out" || fail "--help does not list '$cmd'"
done
run_cli help
[ "$rc" -eq 0 ] && grep -q "upscale" "$TMP/out" || fail "'help' does not print the usage"

# The version is the one the public header declares.
major=$(sed -n 's/^#define QSR_VERSION_MAJOR \([0-9]*\).*/\1/p' "$SRC/include/quantsr.h")
minor=$(sed -n 's/^#define QSR_VERSION_MINOR \([0-9]*\).*/\1/p' "$SRC/include/quantsr.h")
patch=$(sed -n 's/^#define QSR_VERSION_PATCH \([0-9]*\).*/\1/p' "$SRC/include/quantsr.h")
run_cli --version
[ "$rc" -eq 0 ] || fail "--version exit $rc"
[ "$(cat "$TMP/out")" = "quantsr $major.$minor.$patch" ] ||
    fail "--version printed '$(cat "$TMP/out")', expected 'quantsr $major.$minor.$patch'"

# Every command has a help that names its own options.
check_command_help() {
    local cmd=$1
    shift
    run_cli "$cmd" --help
    [ "$rc" -eq 0 ] || fail "$cmd --help exit $rc"
    grep -q "usage: quantsr $cmd" "$TMP/out" || fail "$cmd --help has no usage line"
    for option in "$@"; do
        grep -q -- "$option" "$TMP/out" || fail "$cmd --help does not mention $option"
    done
    run_cli help "$cmd"
    [ "$rc" -eq 0 ] && grep -q "usage: quantsr $cmd" "$TMP/out" || fail "help $cmd failed"
}
check_command_help upscale -i -o -m --depth --depth-any --tile -t --device -g -s -f -x --shard \
    --overwrite --fp32 --fp-math -q -n -j --jobs
check_command_help eval --hr --depth --json --limit -x --cpu --fp-math
check_command_help info -m --json
check_command_help devices --json
check_command_help bench --size --runs --depth --json --batch -j --compare

# Usage errors.
expect_usage_error "no command" "usage"
expect_usage_error "unknown command" "unknown command" frobnicate
expect_usage_error "unknown option" "unknown option" upscale --frobnicate -i a.png -o b.png
expect_usage_error "unknown short option" "unknown option" info -Z
expect_usage_error "missing -i" "missing -i" upscale -o "$TMP/x.png"
expect_usage_error "missing -o" "missing -o" upscale -i "$TMP/x.png"
expect_usage_error "option without value" "needs a value" upscale -i "$TMP/a.png" -o
expect_usage_error "option followed by an option" "needs a value" upscale -i -o "$TMP/b.png"
expect_usage_error "non-numeric tile" "whole number" upscale -i a.png -o b.png -t abc
expect_usage_error "negative depth" "whole number" upscale -i a.png -o b.png --depth -1
expect_usage_error "number with junk" "whole number" upscale -i a.png -o b.png -g 1x
expect_usage_error "flag with value" "takes no value" upscale -i a.png -o b.png --overwrite=yes
expect_usage_error "bad shard" "--shard" upscale -i a.png -o b.png --shard 3/2
expect_usage_error "zero shard" "--shard" upscale -i a.png -o b.png --shard 0/2
expect_usage_error "bad format" "-f" upscale -i a.png -o b.png -f gif
expect_usage_error "bad -j" "LOAD:PROC:SAVE" upscale -i a.png -o b.png -j 2
expect_usage_error "-j with 2 upscalers" "PROC must be 1" upscale -i a.png -o b.png -j 1:2:1
expect_usage_error "bench -j without --batch" "--batch" bench -j 1:1:1
expect_usage_error "bad --fp-math" "fast or reference" upscale -i a.png -o b.png --fp-math exact
expect_usage_error "eval bad --fp-math" "fast or reference" eval --hr "$TMP" --fp-math FAST
expect_usage_error "--fp-math with --cpu" "--fp-math do not apply" upscale -i a.png -o b.png \
    --cpu --fp-math reference
expect_usage_error "stray argument" "unexpected argument" info stray
expect_usage_error "eval without --hr" "missing --hr" eval
expect_usage_error "bench bad size" "--size" bench --size 12
expect_usage_error "bench zero runs" "--runs" bench --runs 0
# The usage error comes before any file is touched.
[ ! -e "$TMP/x.png" ] && [ ! -e "$TMP/b.png" ] || fail "a usage error created a file"

# --option=value is accepted like --option value (the failure is then about the file).
run_cli upscale --input="$TMP/none.png" --output="$TMP/o.png"
[ "$rc" -eq 1 ] || fail "--input=: exit $rc, expected 1"
grep -q "none.png" "$TMP/err" || fail "--input= value not used: $(cat "$TMP/err")"

finish
