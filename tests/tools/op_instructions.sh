#!/usr/bin/env bash
# op_instructions.sh OP_BENCH ARGS... - x86 instructions per op of one op_bench layer, counted
# by valgrind (callgrind) with lavapipe on one thread and Mesa's shader cache off (its writer
# thread would add work to some runs): the count at 3 repetitions minus that at 1, divided by
# 2, so start-up and shader compilation cancel out. Unlike time it does not move
# with the machine's load: the same binary and arguments give the same count, so a change to a
# kernel shows up even where CPU time is noise (docs/benchmarks.md). It counts instructions,
# not cycles: a scalar per-lane fetch loop costs many cheap instructions that overlap the vector
# work, a select chain on the vector units a few costly ones; confirm a gain with op_cpu_time.sh.
# Slow (about a minute for 4096 pixels; keep layers small, but as wide as the network's grids:
# op_bench picks pixels per invocation by width). Needs valgrind.
# Example: tests/tools/op_instructions.sh build/op_bench q 512 8 64 64 2
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OP_BENCH ARGS... (op_bench arguments without REPS)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "$0: valgrind not found" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() { # REPS: instructions the whole process ran
    MESA_SHADER_CACHE_DISABLE=true LP_NUM_THREADS=0 \
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        >"$work/out" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
    awk '/Collected :/ {print $NF}' "$work/log"
}
one=$(count "$@" 1)
three=$(count "$@" 3)
awk -v a="$one" -v b="$three" -v cmd="$*" 'BEGIN { printf "%s: %.0f instructions per op\n", cmd, (b - a) / 2 }'
