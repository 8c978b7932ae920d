#!/usr/bin/env bash
# jit_profile.sh COMMAND... - where lavapipe's JIT-compiled shader code spends its time: the
# instruction mix of the hottest JIT region, weighted by perf samples, with stack traffic
# (register spills) marked STORE / load. Meant for op_bench, e.g.
#   tests/tools/jit_profile.sh build/op_bench q 256 256 64 64 4 400
# (enough repetitions to run > 10 s). Needs perf and gdb (Debian packages linux-perf, gdb) and
# a kernel that allows sampling (perf_event_paranoid <= 1 or root). Release builds of Mesa do not
# print their generated code, so the code is read from the live process with gdb.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
for tool in perf gdb python3; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true' EXIT
"$@" >/dev/null &
pid=$!
sleep 5 # past start-up and shader compilation
kill -0 "$pid" 2>/dev/null || { echo "$0: the command ended within 5 s; give it more work" >&2; exit 1; }
perf record -q -e cpu-clock -p "$pid" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1
# JIT code has no symbols: perf reports raw addresses; keep those of the anonymous mappings.
perf report -i "$work/perf.data" --sort sym --stdio 2>/dev/null |
    awk '$3 ~ /^0x00007f/ {gsub("%", "", $1); print $3, $1}' | sort >"$work/hot.txt"
[ -s "$work/hot.txt" ] || { echo "$0: no samples in JIT code" >&2; exit 1; }
lo=$(head -1 "$work/hot.txt" | cut -d' ' -f1)
hi=$(tail -1 "$work/hot.txt" | cut -d' ' -f1)
gdb -p "$pid" -batch -ex "disassemble $lo,$hi" >"$work/code.txt" 2>/dev/null || true
python3 - "$work/hot.txt" "$work/code.txt" <<'EOF'
import collections, re, sys
hot = {}
for line in open(sys.argv[1]):
    addr, pct = line.split()
    hot[int(addr, 16)] = float(pct)
weight, count = collections.Counter(), collections.Counter()
total = instructions = 0
for line in open(sys.argv[2]):
    m = re.match(r'\s+(0x[0-9a-f]+)\s*(<[^>]*>)?:\s+(\S+)\s*(.*)', line)
    if not m:
        continue
    addr, op, args = int(m.group(1), 16), m.group(3), m.group(4)
    instructions += 1
    if 'rsp' in args or 'rbp' in args:
        op += ' STORE' if re.search(r'(rsp|rbp)\)?$', args.split(',')[-1].strip()) else ' load'
    pct = hot.get(addr, 0.0)
    weight[op] += pct
    count[op] += 1
    total += pct
print(f'{instructions} instructions between the hottest addresses; {total:.1f} % of samples')
print('  % time  count  instruction')
for op, pct in weight.most_common(20):
    print(f'{pct:8.2f} {count[op]:6d}  {op}')
EOF
