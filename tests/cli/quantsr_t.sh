#!/usr/bin/env bash
# quantsr_t.sh - a QuantSR-T model (tests/data/quantsr_t_tiny.qsr) through the command line:
# `info` shows its transformer fields (text and JSON), `upscale --cpu` (file and folder) and
# `eval --cpu` run it on the CPU reference, and without --cpu the GPU path gives the same bytes
# (fp32 execution is refused with a clear message). A random QuantSR-T from make_random_model --arch t carries the header fields it
# was asked for and runs at every depth; `bench --arch t` builds one. python3 (standard library)
# reads the JSON; no PyTorch needed.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model source
MODEL="$SRC/tests/data/quantsr_t_tiny.qsr"

"$CLI" info -m "$MODEL" >"$TMP/info.txt" 2>&1 || fail "info: $(cat "$TMP/info.txt")"
grep -q "QuantSR-T x2" "$TMP/info.txt" || fail "info: no 'QuantSR-T x2'"
grep -q "2 heads, window 4, MLP hidden 16" "$TMP/info.txt" || fail "info: no T fields"
grep -q "4 Swin layers in 2 groups (2 + 2)" "$TMP/info.txt" || fail "info: no groups"

"$CLI" info -m "$MODEL" --json >"$TMP/info.json" 2>"$TMP/err" || fail "info --json: $(cat "$TMP/err")"
python3 - "$TMP/info.json" <<'PY' || fail "info --json fields"
import json, sys
info = json.load(open(sys.argv[1]))
want = {"arch": "QuantSR-T", "heads": 2, "window": 4, "mlp_hidden": 16, "group_depths": [2, 2],
        "blocks": 4, "channels": 8, "depth_levels": [4, 3, 2, 1]}
bad = {k: info.get(k) for k, v in want.items() if info.get(k) != v}
assert not bad, bad
macs = info["macs_per_pixel"]
assert macs == sorted(macs, reverse=True) and macs[0] == 5880, macs
PY

make_png "$TMP/in.png" 13 9 1
"$CLI" upscale -q --cpu -m "$MODEL" -i "$TMP/in.png" -o "$TMP/out.png" --depth 2 \
    || fail "upscale --cpu"
[ "$(png_size "$TMP/out.png")" = "26x18" ] || fail "upscale --cpu: output $(png_size "$TMP/out.png")"
mkdir -p "$TMP/folder" && make_png "$TMP/folder/a.png" 6 5 2 && make_png "$TMP/folder/b.png" 4 4 3
"$CLI" upscale -q --cpu -m "$MODEL" -i "$TMP/folder" -o "$TMP/outs" || fail "upscale --cpu folder"
[ "$(png_size "$TMP/outs/a.png")" = "12x10" ] || fail "folder output a.png"
[ "$(png_size "$TMP/outs/b.png")" = "8x8" ] || fail "folder output b.png"
"$CLI" upscale -q --cpu -g 1 -m "$MODEL" -i "$TMP/in.png" -o "$TMP/x.png" 2>/dev/null
[ $? -eq 2 ] || fail "upscale --cpu -g: not a usage error"

mkdir -p "$TMP/hr" && make_png "$TMP/hr/h.png" 24 20 4
"$CLI" eval --cpu --json -m "$MODEL" --hr "$TMP/hr" >"$TMP/eval.json" 2>"$TMP/err" \
    || fail "eval --cpu: $(cat "$TMP/err")"
python3 - "$TMP/eval.json" <<'PY' || fail "eval --cpu JSON"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["arch"] == "QuantSR-T" and e["backend"] == "cpu-reference", e
assert e["psnr_y"] > 0, e
PY

# Without --cpu: the GPU path, byte-equal to the CPU reference on this model and image (where
# there is a device); fp32 execution is refused cleanly without an output.
if "$CLI" upscale -q -m "$MODEL" -i "$TMP/in.png" -o "$TMP/gpu.png" --depth 2 2>"$TMP/err"; then
    cmp -s "$TMP/gpu.png" "$TMP/out.png" || fail "GPU upscale differs from --cpu"
    "$CLI" upscale -q --fp32 -m "$MODEL" -i "$TMP/in.png" -o "$TMP/fp.png" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "fp32 GPU upscale of a QuantSR-T model: exit $rc"
    grep -q "quantized kernels only" "$TMP/err" || fail "fp32 refusal message: $(cat "$TMP/err")"
    [ ! -e "$TMP/fp.png" ] || fail "the fp32 refusal left an output"
    # The whole image at once: past the memory budget, a clear failure and no output.
    make_png "$TMP/big.png" 200 150 6
    "$CLI" upscale -q -m "$MODEL" -i "$TMP/big.png" -o "$TMP/big_out.png" --max-memory 1 \
        2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "QuantSR-T past the memory budget: exit $rc"
    grep -q "runs a whole 200x150 image at once" "$TMP/err" || fail "budget message: $(cat "$TMP/err")"
    [ ! -e "$TMP/big_out.png" ] || fail "a failed whole-image run left an output"
else
    grep -q "Vulkan" "$TMP/err" || fail "GPU upscale of a QuantSR-T model: $(cat "$TMP/err")"
fi

# A random QuantSR-T: the shape asked for, CPU outputs that differ between depth levels.
make_model "$TMP/rand_t.qsr" --arch t --scale 3 --channels 24 --blocks 6 --heads 3 --window 4 \
    --mlp-hidden 40 --groups 3 --seed 5
"$CLI" info -m "$TMP/rand_t.qsr" --json >"$TMP/rand.json" 2>"$TMP/err" \
    || fail "info (random T): $(cat "$TMP/err")"
python3 - "$TMP/rand.json" <<'PY' || fail "random T header fields"
import json, sys
info = json.load(open(sys.argv[1]))
want = {"arch": "QuantSR-T", "scale": 3, "channels": 24, "blocks": 6, "heads": 3, "window": 4,
        "mlp_hidden": 40, "group_depths": [2, 2, 2], "depth_levels": [6, 3, 1]}
bad = {k: info.get(k) for k, v in want.items() if info.get(k) != v}
assert not bad, bad
PY
make_png "$TMP/r.png" 11 7 5
for d in 6 3 1; do
    "$CLI" upscale -q --cpu -m "$TMP/rand_t.qsr" -i "$TMP/r.png" -o "$TMP/r$d.png" --depth $d \
        || fail "upscale --cpu random T at depth $d"
done
cmp -s "$TMP/r6.png" "$TMP/r3.png" && fail "random T: depth 6 and 3 give the same image"
cmp -s "$TMP/r3.png" "$TMP/r1.png" && fail "random T: depth 3 and 1 give the same image"
"$MAKE_MODEL" "$TMP/bad.qsr" --arch t --channels 10 --heads 4 >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "divide channels" "$TMP/err" || fail "heads not dividing channels accepted"

# bench --arch t builds a random QuantSR-T; --ops times its attention and linear layers apart.
if "$CLI" bench --arch t --channels 12 --blocks 2 --size 16x16 --runs 1 --ops >"$TMP/bench.txt" 2>&1; then
    for op in "window attention (q)" "linear qkv (q)" "linear fc1 + GELU (q)" "norm1 + quantize"; do
        grep -qF "$op" "$TMP/bench.txt" || fail "bench --ops: no '$op' line"
    done
    grep -q "random QuantSR-T x4 C12 B2" "$TMP/bench.txt" || fail "bench --arch t: model name"
else
    grep -q "Vulkan" "$TMP/bench.txt" || fail "bench --arch t: $(cat "$TMP/bench.txt")"
fi
"$CLI" bench --arch x >/dev/null 2>&1
[ $? -eq 2 ] || fail "bench --arch x: not a usage error"

finish
