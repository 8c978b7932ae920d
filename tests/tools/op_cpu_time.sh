#!/usr/bin/env bash
# op_cpu_time.sh OP_BENCH ARGS... - CPU seconds (user + sys) per op of one op_bench layer:
# the process's CPU time at 17 repetitions minus that at 1, divided by 16, so start-up and
# pipeline compilation cancel out. On a shared machine CPU time moves far less than wall time
# (docs/benchmarks.md compares kernels this way, old and new binaries alternating).
# Needs GNU time (/usr/bin/time, Debian package time).
# Example: tests/tools/op_cpu_time.sh build/op_bench q 256 256 64 64 4
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OP_BENCH ARGS... (op_bench arguments without REPS)" >&2; exit 2; }
cpu_seconds() {
    local t
    t=$( { /usr/bin/time -f "%U %S" "$@" >/dev/null; } 2>&1 | tail -1)
    echo "$t" | awk '{print $1 + $2}'
}
"$@" 1 >/dev/null # warm the driver's shader cache
one=$(cpu_seconds "$@" 1)
many=$(cpu_seconds "$@" 17)
awk -v a="$one" -v b="$many" -v cmd="$*" 'BEGIN { printf "%s: %.4f CPU s per op\n", cmd, (b - a) / 16 }'
