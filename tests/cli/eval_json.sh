#!/usr/bin/env bash
# eval_json.sh - `quantsr eval`: JSON keys and shape, means equal to the per-image means,
# mod-crop to the scale (odd-sized images), the CPU reference and the GPU path (either FP math,
# as the fp_math key says) agree, the bicubic baseline of smooth images is good (a wrong crop or
# LR size would ruin it), --limit, and a corrupt image fails alone with exit 1.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

make_model "$TMP/model.qsr" --scale 3 --channels 8 --blocks 2 --seed 9

# Smooth RGB PNGs whose sizes are not multiples of 3 (Python standard library only).
mkdir -p "$TMP/hr"
python3 - "$TMP/hr" <<'PY'
import math, struct, sys, zlib
def save_png(path, w, h, phase):
    raw = b""
    for y in range(h):
        raw += b"\0"
        for x in range(w):
            r = 128 + 90 * math.sin(0.11 * x + phase)
            g = 128 + 90 * math.cos(0.07 * y + 0.05 * x)
            b = 40 + 3 * x + 2 * y
            raw += bytes(max(0, min(255, int(v))) for v in (r, g, b))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
save_png(sys.argv[1] + "/one.png", 35, 31, 0.0)
save_png(sys.argv[1] + "/two.png", 40, 26, 1.3)
PY

run_eval() {
    "$CLI" eval -m "$TMP/model.qsr" --hr "$TMP/hr" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

run_eval --json --cpu
[ "$rc" -eq 0 ] || fail "eval --cpu: exit $rc: $(cat "$TMP/err")"
cp "$TMP/out" "$TMP/cpu.json"
run_eval --json
[ "$rc" -eq 0 ] || fail "eval (GPU): exit $rc: $(cat "$TMP/err")"
cp "$TMP/out" "$TMP/gpu.json"
run_eval --json --limit 1
[ "$rc" -eq 0 ] || fail "eval --limit 1: exit $rc: $(cat "$TMP/err")"
cp "$TMP/out" "$TMP/limit.json"
run_eval --json --fp-math reference
[ "$rc" -eq 0 ] || fail "eval --fp-math reference: exit $rc: $(cat "$TMP/err")"
cp "$TMP/out" "$TMP/exact.json"

python3 - "$TMP" <<'PY' || fail "eval --json: see above"
import json, math, sys
tmp = sys.argv[1]
errors = []
def load(name):
    try:
        with open("%s/%s.json" % (tmp, name)) as f:
            return json.load(f)
    except Exception as e:
        errors.append("%s.json does not parse: %s" % (name, e))
        return None
keys = ["model", "arch", "scale", "depth", "bits_w", "bits_a", "images", "psnr_y", "ssim_y",
        "bicubic_psnr_y", "bicubic_ssim_y", "per_image", "gpu_ms"]
image_keys = ["name", "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"]
def check(name, doc, count):
    missing = [k for k in keys if k not in doc]
    if missing:
        errors.append("%s: missing %s" % (name, missing))
        return
    per = doc["per_image"]
    if doc["images"] != count or len(per) != count:
        errors.append("%s: %r images, %d rows, expected %d" % (name, doc["images"], len(per), count))
        return
    if [p.get("name") for p in per] != ["one.png", "two.png"][:count]:
        errors.append("%s: image names %r" % (name, [p.get("name") for p in per]))
    for p in per:
        if any(k not in p for k in image_keys):
            errors.append("%s: per-image keys %r" % (name, sorted(p)))
            return
    for k in image_keys[1:]:
        mean = sum(p[k] for p in per) / count
        if not math.isclose(doc[k], mean, rel_tol=1e-6):
            errors.append("%s: %s %r is not the mean %r" % (name, k, doc[k], mean))
    for p in per:
        if not (p["bicubic_psnr_y"] > 28 and 0.8 < p["bicubic_ssim_y"] <= 1):
            errors.append("%s: bicubic baseline of smooth %s is poor: %.2f dB, SSIM %.3f"
                          % (name, p["name"], p["bicubic_psnr_y"], p["bicubic_ssim_y"]))
        if not (0 < p["psnr_y"] < 100 and -1 <= p["ssim_y"] <= 1):
            errors.append("%s: SR scores of %s out of range: %r" % (name, p["name"], p))
    if doc["scale"] != 3 or doc["depth"] != 2 or doc["arch"] != "QuantSR-C":
        errors.append("%s: scale/depth/arch %r/%r/%r" % (name, doc["scale"], doc["depth"], doc["arch"]))
cpu, gpu, limit, exact = load("cpu"), load("gpu"), load("limit"), load("exact")
if cpu: check("cpu", cpu, 2)
if gpu: check("gpu", gpu, 2)
if limit: check("limit", limit, 1)
if exact: check("exact", exact, 2)
for name, doc, want in (("cpu", cpu, "reference"), ("gpu", gpu, "fast"), ("exact", exact, "reference")):
    if doc and doc.get("fp_math") != want:
        errors.append("%s: fp_math %r, expected %r" % (name, doc.get("fp_math"), want))
if cpu and exact and not errors:
    for c, x in zip(cpu["per_image"], exact["per_image"]):
        if abs(c["psnr_y"] - x["psnr_y"]) > 0.1:
            errors.append("%s: --fp-math reference %.4f dB vs CPU %.4f dB" % (c["name"], x["psnr_y"], c["psnr_y"]))
if cpu and gpu and not errors:
    if cpu["gpu_ms"] != 0 or gpu["gpu_ms"] <= 0:
        errors.append("gpu_ms: cpu %r, gpu %r" % (cpu["gpu_ms"], gpu["gpu_ms"]))
    for c, g in zip(cpu["per_image"], gpu["per_image"]):
        # Same LR, same bicubic: identical baselines; the GPU matches the CPU reference.
        if c["bicubic_psnr_y"] != g["bicubic_psnr_y"]:
            errors.append("bicubic PSNR differs between runs for %s" % c["name"])
        if abs(c["psnr_y"] - g["psnr_y"]) > 0.1:
            errors.append("%s: GPU %.4f dB vs CPU reference %.4f dB" % (c["name"], g["psnr_y"], c["psnr_y"]))
if limit and cpu and not errors and limit["per_image"][0] != gpu["per_image"][0]:
    errors.append("--limit 1 row differs from the full run: %r" % limit["per_image"][0])
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# The table form.
run_eval
[ "$rc" -eq 0 ] || fail "eval (table): exit $rc: $(cat "$TMP/err")"
grep -q "^one.png" "$TMP/out" && grep -q "^two.png" "$TMP/out" && grep -q "^mean of 2" "$TMP/out" ||
    fail "eval table lacks rows: $(cat "$TMP/out")"

# A bad depth is refused before any work.
run_eval --json --depth 9
[ "$rc" -eq 1 ] || fail "eval --depth 9: exit $rc, expected 1"
[ ! -s "$TMP/out" ] || fail "eval --depth 9 printed: $(cat "$TMP/out")"

# A corrupt image fails alone: the others are measured, exit 1, "failed": 1.
printf 'corrupt' >"$TMP/hr/three.png"
run_eval --json --cpu
[ "$rc" -eq 1 ] || fail "eval with a corrupt image: exit $rc, expected 1"
grep -q "three.png" "$TMP/err" || fail "the corrupt image is not named: $(cat "$TMP/err")"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["images"] == 2 and d["failed"] == 1 else 1)' "$TMP/out" ||
    fail "eval with a corrupt image: wrong counts: $(cat "$TMP/out")"

finish
