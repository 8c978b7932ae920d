#!/usr/bin/env bash
# shipped_models.sh - every trained model of models/ is what the project says it is: it loads,
# models/results.csv has one row per depth level it offers (with that level's MAC count, as
# `info` reports it), and on the bundled sample (a photo none of them was trained on) each level
# beats bicubic on the CPU reference, and the GPU path scores the same as the CPU reference (to
# 0.01 dB); at full depth on the whole sample, the GPU image (default, fast FP math) agrees with
# the CPU reference's as include/quantsr.h promises: >= 99.9 % of the bytes identical, none more
# than 1 level apart. python3 (standard library) reads the JSON, the CSV and the BMP images.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli source

mkdir -p "$TMP/hr"
cp "$SRC/assets/sample.png" "$TMP/hr/sample.png"

# The full-depth upscale of the sample on the GPU against the CPU reference's.
compare_full_depth() {
    local model=$1 name=$2
    rm -f "$TMP/cpu.bmp" "$TMP/gpu.bmp"
    "$CLI" upscale -q --cpu -m "$model" -i "$SRC/assets/sample.png" -o "$TMP/cpu.bmp" \
        2>"$TMP/err" || {
        fail "$name: upscale --cpu: $(cat "$TMP/err")"
        return
    }
    if ! "$CLI" upscale -q -m "$model" -i "$SRC/assets/sample.png" -o "$TMP/gpu.bmp" \
        2>"$TMP/err"; then
        grep -q "Vulkan" "$TMP/err" || fail "$name: upscale (GPU): $(cat "$TMP/err")"
        return
    fi
    python3 - "$TMP/cpu.bmp" "$TMP/gpu.bmp" "$name" <<'PY' || fail "$name: GPU image != CPU"
import struct, sys
c, g = (open(p, "rb").read() for p in sys.argv[1:3])
off = struct.unpack_from("<I", c, 10)[0]
w, h = struct.unpack_from("<ii", c, 18)
bpp = struct.unpack_from("<H", c, 28)[0]
assert c[:off] == g[:off] and len(c) == len(g) and bpp == 24, "different headers"
stride = (w * 3 + 3) // 4 * 4
values = [(c[off + y * stride + i], g[off + y * stride + i]) for y in range(abs(h))
          for i in range(w * 3)]
differ = sum(a != b for a, b in values)
worst = max(abs(a - b) for a, b in values)
print("%s: %d of %d values differ, by at most %d" % (sys.argv[3], differ, len(values), worst))
assert differ * 1000 <= len(values) and worst <= 1, (differ, worst)
PY
}
found=0
for model in "$SRC"/models/*.qsr; do
    [ -e "$model" ] || continue
    found=$((found + 1))
    name=$(basename "$model")
    "$CLI" info -m "$model" --json >"$TMP/info.json" 2>"$TMP/err" || {
        fail "$name: info: $(cat "$TMP/err")"
        continue
    }
    levels=$(python3 - "$TMP/info.json" "$SRC/models/results.csv" "$name" <<'PY'
import csv, json, sys
info = json.load(open(sys.argv[1]))
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["model"] == sys.argv[3]]
levels = {int(r["depth"]): int(r["macs_per_lr_pixel"]) for r in rows}
want = dict(zip(info["depth_levels"], info["macs_per_pixel"]))
assert levels == want, "results.csv rows %r, the model offers %r" % (levels, want)
for r in rows:
    assert int(r["scale"]) == info["scale"] and int(r["channels"]) == info["channels"], r
    assert r["set5_psnr"] and r["set14_psnr"], "unmeasured row %r" % r
print(*info["depth_levels"])
PY
    ) || {
        fail "$name: results.csv"
        continue
    }
    for d in $levels; do
        "$CLI" eval --cpu --json -m "$model" --hr "$TMP/hr" --depth "$d" >"$TMP/cpu.json" \
            2>"$TMP/err" || {
            fail "$name depth $d: eval --cpu: $(cat "$TMP/err")"
            continue
        }
        python3 - "$TMP/cpu.json" <<'PY' || fail "$name depth $d: not above bicubic on the sample"
import json, sys
e = json.load(open(sys.argv[1]))
# A trained x2-x4 model gains well over 0.5 dB on a photo (the shipped ones 1-3 dB on Set5).
assert e["psnr_y"] > e["bicubic_psnr_y"] + 0.5, (e["psnr_y"], e["bicubic_psnr_y"])
PY
        if "$CLI" eval --json -m "$model" --hr "$TMP/hr" --depth "$d" >"$TMP/gpu.json" 2>"$TMP/err"; then
            python3 - "$TMP/cpu.json" "$TMP/gpu.json" <<'PY' || fail "$name depth $d: GPU != CPU"
import json, sys
c, g = (json.load(open(p)) for p in sys.argv[1:3])
assert abs(c["psnr_y"] - g["psnr_y"]) < 0.01, (c["psnr_y"], g["psnr_y"])
PY
        else
            grep -q "Vulkan" "$TMP/err" || fail "$name depth $d: eval (GPU): $(cat "$TMP/err")"
        fi
    done
    compare_full_depth "$model" "$name"
done
[ "$found" -gt 0 ] || fail "no model in $SRC/models"
finish
