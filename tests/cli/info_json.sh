#!/usr/bin/env bash
# info_json.sh - `quantsr info --json` is valid JSON with the documented keys, and its values
# match the model make_random_model wrote (scale, channels, blocks, bits, file size); the
# depth levels, block rank and MAC counts are consistent with each other. No device needed.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

# check_info MODEL SCALE CHANNELS BLOCKS BITS_W BITS_A: info --json against what was asked.
check_info() {
    local model=$1
    "$CLI" info -m "$model" --json >"$TMP/info.json" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 0 ] || { fail "info --json $model: exit $rc: $(cat "$TMP/err")"; return; }
    python3 -c 'import json, sys' 2>/dev/null || { fail "python3 is missing"; return; }
    python3 - "$TMP/info.json" "$@" <<'PY' || fail "info --json $model: see above"
import json, os, sys
path, model = sys.argv[1], sys.argv[2]
scale, channels, blocks, bits_w, bits_a = map(int, sys.argv[3:8])
with open(path) as f:
    info = json.load(f)
required = ["arch", "scale", "channels", "blocks", "bits_w", "bits_a", "depth_levels",
            "file_bytes", "parameters", "block_rank", "macs_per_pixel", "in_channels",
            "path", "gmac_256x256", "tensor_count", "rgb_mean", "img_range"]
missing = [k for k in required if k not in info]
errors = ["missing keys %s" % missing] if missing else []
def expect(cond, what):
    if not cond:
        errors.append(what)
if not missing:
    expect(info["arch"] == "QuantSR-C", "arch %r" % info["arch"])
    expect(info["scale"] == scale, "scale %r != %d" % (info["scale"], scale))
    expect(info["channels"] == channels, "channels %r != %d" % (info["channels"], channels))
    expect(info["blocks"] == blocks, "blocks %r != %d" % (info["blocks"], blocks))
    expect(info["bits_w"] == bits_w and info["bits_a"] == bits_a, "bits %r/%r" % (info["bits_w"], info["bits_a"]))
    expect(info["in_channels"] == 3, "in_channels %r" % info["in_channels"])
    expect(info["file_bytes"] == os.path.getsize(model), "file_bytes %r != %d" % (info["file_bytes"], os.path.getsize(model)))
    expect(info["path"] == model, "path %r" % info["path"])
    levels = info["depth_levels"]
    expect(isinstance(levels, list) and 1 <= len(levels) <= 8, "depth_levels %r" % levels)
    expect(levels and levels[0] == blocks, "first depth level %r != blocks" % levels[:1])
    expect(all(a > b for a, b in zip(levels, levels[1:])) and levels[-1] >= 1, "depth levels not strictly decreasing: %r" % levels)
    expect(sorted(info["block_rank"]) == list(range(blocks)), "block_rank %r is not a permutation" % info["block_rank"])
    macs = info["macs_per_pixel"]
    expect(len(macs) == len(levels), "macs_per_pixel has %d entries for %d levels" % (len(macs), len(levels)))
    expect(all(a > b for a, b in zip(macs, macs[1:])), "MACs do not fall with depth: %r" % macs)
    # Each block runs two CxC 3x3 convolutions per LR pixel.
    body = 2 * 9 * channels * channels
    expect(all(m - n == (a - b) * body for m, n, a, b in zip(macs, macs[1:], levels, levels[1:])), "MACs per block differ from 2*9*C*C: %r" % macs)
    expect(all(abs(g - m * 65536 / 1e9) < 1e-6 * max(1.0, g) for g, m in zip(info["gmac_256x256"], macs)), "gmac_256x256 %r" % info["gmac_256x256"])
    expect(info["parameters"] > 2 * blocks * 9 * channels * channels, "parameters %r too small" % info["parameters"])
for e in errors:
    print("info --json %s: %s" % (model, e), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

make_model "$TMP/a.qsr" --scale 2 --channels 8 --blocks 2 --bits-w 4 --bits-a 4 --seed 1
make_model "$TMP/b.qsr" --scale 4 --channels 16 --blocks 4 --bits-w 2 --bits-a 3 --seed 2
check_info "$TMP/a.qsr" 2 8 2 4 4
check_info "$TMP/b.qsr" 4 16 4 2 3

# The human form names the same facts; a bad model fails with exit 1 and no JSON.
"$CLI" info -m "$TMP/b.qsr" >"$TMP/info.txt" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "info: exit $rc: $(cat "$TMP/err")"
grep -q "QuantSR-C x4" "$TMP/info.txt" || fail "info text lacks 'QuantSR-C x4'"
grep -q "W2 A3" "$TMP/info.txt" || fail "info text lacks 'W2 A3'"
head -c 100 "$TMP/a.qsr" >"$TMP/short.qsr"
"$CLI" info -m "$TMP/short.qsr" --json >"$TMP/info.json" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "info on a truncated model: exit $rc, expected 1"
[ ! -s "$TMP/info.json" ] || fail "info on a truncated model printed JSON"
grep -q "^quantsr: " "$TMP/err" || fail "info on a truncated model: no error message"

finish
