#!/usr/bin/env bash
# ensemble.sh - `upscale -x` averages the 8 flips/rotations. Averaging over the whole symmetry
# group makes the result exactly equivariant: the ensemble of a mirrored (or transposed) image
# is the mirrored (transposed) ensemble, bit for bit, because the same 8 network runs happen in
# another order. A wrong inverse transform (rot90 undone as rot90, a missed flip, width and
# height swapped) breaks this on a non-square image. Plain upscaling of a random model is not
# equivariant, so the ensemble must also differ from it.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 5

# A 20x12 random image and its mirror, vertical flip and transpose, as 24-bit BMPs; the outputs
# are BMPs too, so Python's standard library reads them.
python3 - "$TMP" <<'PY'
import random, struct, sys
tmp = sys.argv[1]
w, h = 20, 12
rng = random.Random(3)
img = [[tuple(rng.randrange(256) for _ in range(3)) for _ in range(w)] for _ in range(h)]
def save_bmp(path, rows):
    height, width = len(rows), len(rows[0])
    stride = (3 * width + 3) & ~3
    data = b"".join(b"".join(bytes((b, g, r)) for r, g, b in row).ljust(stride, b"\0")
                    for row in reversed(rows))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(data), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    open(path, "wb").write(header + info + data)
save_bmp(tmp + "/id.bmp", img)
save_bmp(tmp + "/fliph.bmp", [row[::-1] for row in img])
save_bmp(tmp + "/flipv.bmp", img[::-1])
save_bmp(tmp + "/transpose.bmp", [list(col) for col in zip(*img)])
PY

for name in id fliph flipv transpose; do
    "$CLI" upscale -x -i "$TMP/$name.bmp" -o "$TMP/x_$name.bmp" -m "$TMP/model.qsr" 2>"$TMP/err" ||
        fail "upscale -x $name: $(cat "$TMP/err")"
done
"$CLI" upscale -i "$TMP/id.bmp" -o "$TMP/plain_id.bmp" -m "$TMP/model.qsr" 2>"$TMP/err" ||
    fail "plain upscale: $(cat "$TMP/err")"

python3 - "$TMP" <<'PY' || fail "ensemble equivariance: see above"
import struct, sys
tmp = sys.argv[1]
def load_bmp(path):
    d = open(path, "rb").read()
    assert d[:2] == b"BM", path + " is not a BMP"
    offset, = struct.unpack_from("<I", d, 10)
    width, height, _, bpp = struct.unpack_from("<iiHH", d, 18)
    assert bpp in (24, 32), "%s: %d bits per pixel" % (path, bpp)
    step = bpp // 8
    stride = (step * width + 3) & ~3
    rows = []
    for y in range(abs(height)):
        row = d[offset + y * stride: offset + y * stride + step * width]
        rows.append([tuple(row[x * step: x * step + 3]) for x in range(width)])
    return rows[::-1] if height > 0 else rows
ens = {n: load_bmp("%s/x_%s.bmp" % (tmp, n)) for n in ("id", "fliph", "flipv", "transpose")}
plain = load_bmp(tmp + "/plain_id.bmp")
errors = []
if (len(ens["id"]), len(ens["id"][0])) != (24, 40):
    errors.append("ensemble output is %dx%d, expected 40x24" % (len(ens["id"][0]), len(ens["id"])))
expected = {"fliph": [row[::-1] for row in ens["id"]], "flipv": ens["id"][::-1],
            "transpose": [list(col) for col in zip(*ens["id"])]}
for name, want in expected.items():
    if ens[name] != want:
        errors.append("ensemble of %s is not the %s of the ensemble" % (name, name))
if plain == ens["id"]:
    errors.append("-x gave the same image as a plain upscale")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

finish
