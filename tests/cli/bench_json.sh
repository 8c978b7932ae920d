#!/usr/bin/env bash
# bench_json.sh - `quantsr bench --json` runs both paths at every depth level and reports the
# documented keys with consistent values. Speed itself is never asserted (CI runs lavapipe):
# only that times are positive and the ratios are the quotients of the reported medians.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

make_model "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 4
"$CLI" info -m "$TMP/model.qsr" --json >"$TMP/info.json" 2>"$TMP/err" ||
    fail "info: $(cat "$TMP/err")"
"$CLI" bench -m "$TMP/model.qsr" --size 24x16 --runs 3 --json >"$TMP/bench.json" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "bench --json: exit $rc: $(cat "$TMP/err")"
python3 - "$TMP/bench.json" "$TMP/info.json" <<'PY' || fail "bench --json: see above"
import json, math, sys
bench = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
errors = []
for k in ["model", "arch", "scale", "bits_w", "bits_a", "device", "width", "height", "runs",
          "warmup", "results", "body_weight_bytes", "host_peak_rss_bytes"]:
    if k not in bench:
        errors.append("missing key %s" % k)
if not errors:
    if (bench["width"], bench["height"], bench["runs"]) != (24, 16, 3):
        errors.append("size/runs %r" % ((bench["width"], bench["height"], bench["runs"]),))
    depths = [r["depth"] for r in bench["results"]]
    if depths != info["depth_levels"]:
        errors.append("depths %r, model levels %r" % (depths, info["depth_levels"]))
    for r, macs in zip(bench["results"], info["macs_per_pixel"]):
        if r["macs_per_pixel"] != macs:
            errors.append("depth %d: macs_per_pixel %r != info %r" % (r["depth"], r["macs_per_pixel"], macs))
        for path in ("quantized", "fp32"):
            m = r[path]
            if not (m["total_ms"] > 0 and m["gpu_ms"] >= 0 and m["gmac_per_s"] > 0 and m["tiles"] >= 1):
                errors.append("depth %d %s: %r" % (r["depth"], path, m))
        q, f = r["quantized"], r["fp32"]
        if not math.isclose(r["ratio_total_ms"], q["total_ms"] / f["total_ms"], rel_tol=1e-6):
            errors.append("depth %d: ratio_total_ms %r" % (r["depth"], r["ratio_total_ms"]))
        if f["gpu_ms"] > 0 and not math.isclose(r["ratio_gpu_ms"], q["gpu_ms"] / f["gpu_ms"], rel_tol=1e-6):
            errors.append("depth %d: ratio_gpu_ms %r" % (r["depth"], r["ratio_gpu_ms"]))
    # Shares against the full depth (the first level): 1 there, the quotient of the medians
    # elsewhere, and fewer MACs run at fewer blocks.
    full = bench["results"][0]["quantized"]
    for r in bench["results"]:
        q = r["quantized"]
        if full["gpu_ms"] > 0 and not math.isclose(r["time_share"], q["gpu_ms"] / full["gpu_ms"], rel_tol=1e-6):
            errors.append("depth %d: time_share %r" % (r["depth"], r["time_share"]))
        if not (0 < r["mac_share"] <= 1) or (r is bench["results"][0]) != (r["mac_share"] == 1):
            errors.append("depth %d: mac_share %r" % (r["depth"], r["mac_share"]))
    w = bench["body_weight_bytes"]
    if not (0 < w["quantized"] < w["fp32"]):
        errors.append("body_weight_bytes %r" % w)
    # Each path's upscaler holds at least its weights on the device (fp32 body weights
    # are 8x the 4-bit ones; activations come on top).
    d = bench.get("device_bytes", {})
    if not (d.get("quantized", 0) > w["quantized"] and d.get("fp32", 0) > w["fp32"]):
        errors.append("device_bytes %r (body weights %r)" % (d, w))
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# --depth D measures only D; the text form has one row per path.
"$CLI" bench -m "$TMP/model.qsr" --size 16x16 --runs 1 --depth 2 >"$TMP/bench.txt" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "bench --depth 2: exit $rc: $(cat "$TMP/err")"
[ "$(grep -c '^    2  quantized' "$TMP/bench.txt")" -eq 1 ] &&
    [ "$(grep -c '^    2  fp32' "$TMP/bench.txt")" -eq 1 ] || fail "bench text: $(cat "$TMP/bench.txt")"
"$CLI" bench -m "$TMP/model.qsr" --size 16x16 --runs 1 --depth 9 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 1 ] || fail "bench --depth 9: exit $rc, expected 1"

# --ops: per-op profiles at every level; the body's op counts and MACs follow from the model
# (one body tile covers 24x16: no halo), and the ops' times add up to at most the run's.
"$CLI" bench -m "$TMP/model.qsr" --size 24x16 --ops --json >"$TMP/ops.json" 2>"$TMP/err" ||
    fail "bench --ops --json: $(cat "$TMP/err")"
python3 - "$TMP/ops.json" "$TMP/info.json" <<'PY' || fail "bench --ops --json: see above"
import json, sys
ops = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
errors = []
for k in ("int_pair_gmac_per_s", "int_quad_gmac_per_s", "fp32_gmac_per_s", "texel_gfetch_per_s",
          "buffer_gload_per_s"):
    if not ops["peak"][k] > 0:
        errors.append("peak %s = %r" % (k, ops["peak"][k]))
levels = [p["depth"] for p in ops["profiles"]]
if levels != info["depth_levels"]:
    errors.append("levels %r, model has %r" % (levels, info["depth_levels"]))
c = info["channels"]
for p in ops["profiles"]:
    by_name = {o["name"]: o for o in p["ops"]}
    for name in ("body conv1 (q)", "body conv2 (q)"):
        o = by_name.get(name)
        if o is None or o["dispatches"] != p["depth"] or o["macs"] != p["depth"] * c * c * 9 * 24 * 16:
            errors.append("depth %d: %s = %r" % (p["depth"], name, o))
    if by_name.get("quantize_rlq", {}).get("dispatches") != 1:
        errors.append("depth %d: %r quantizer passes, expected 1" % (p["depth"], by_name.get("quantize_rlq")))
    total = sum(o["gpu_ms"] for o in p["ops"])
    if not 0 < total <= p["gpu_ms"] * 1.0001 + 1e-6:
        errors.append("depth %d: ops add up to %g ms of %g" % (p["depth"], total, p["gpu_ms"]))
    for o in p["ops"]:
        if o["macs"] and not 0 < o["fraction_of_limit"]:
            errors.append("%s: fraction_of_limit %r" % (o["name"], o["fraction_of_limit"]))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
# --ops --runs N: medians of N profiled runs per depth; the quantized ops together (QuantSR-C's
# body) carry the dispatches and MACs of conv1 and conv2, their fraction of the limit lies
# within the range of the ops' own, and with one run the parts add up.
for runs in 1 3; do
    "$CLI" bench -m "$TMP/model.qsr" --size 24x16 --depth 2 --ops --runs $runs --json \
        >"$TMP/runs.json" 2>"$TMP/err" || fail "bench --ops --runs $runs: $(cat "$TMP/err")"
    python3 - "$TMP/runs.json" $runs <<'PY' || fail "bench --ops --runs $runs --json: see above"
import json, sys
doc, runs = json.load(open(sys.argv[1])), int(sys.argv[2])
errors = []
if doc["runs"] != runs or [p["runs"] for p in doc["profiles"]] != [runs]:
    errors.append("runs %r / %r, expected %d" % (doc["runs"], [p["runs"] for p in doc["profiles"]], runs))
for p in doc["profiles"]:
    q = [o for o in p["ops"] if "(q)" in o["name"]]
    total = p["quantized"]
    if [o["name"] for o in q] != ["body conv1 (q)", "body conv2 (q)"]:
        errors.append("quantized ops %r" % q)
    if total["dispatches"] != sum(o["dispatches"] for o in q) or total["macs"] != sum(o["macs"] for o in q):
        errors.append("quantized %r, ops %r" % (total, q))
    if not 0 < total["gpu_ms"] <= p["gpu_ms"]:
        errors.append("quantized %g ms of a %g ms run" % (total["gpu_ms"], p["gpu_ms"]))
    fractions = [o["fraction_of_limit"] for o in q]
    if runs == 1:
        if abs(total["gpu_ms"] - sum(o["gpu_ms"] for o in q)) > 1e-6 * total["gpu_ms"]:
            errors.append("one run: quantized %g ms, ops %r" % (total["gpu_ms"], q))
        if not min(fractions) * 0.999999 <= total["fraction_of_limit"] <= max(fractions) * 1.000001:
            errors.append("one run: quantized fraction %g outside %r" % (total["fraction_of_limit"], fractions))
    if abs(total["gmac_per_s"] - total["macs"] / (total["gpu_ms"] * 1e6)) > 1e-6 * total["gmac_per_s"]:
        errors.append("quantized GMAC/s %r" % total)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
done
"$CLI" bench --arch c --channels 8 --blocks 2 --scale 2 --bits 2 --size 16x16 --ops --json \
    >"$TMP/arch.json" 2>"$TMP/err" || fail "bench --arch c: $(cat "$TMP/err")"
python3 - "$TMP/arch.json" <<'PY' || fail "bench --arch c --ops --json: see above"
import json, sys
doc = json.load(open(sys.argv[1]))
depths = [p["depth"] for p in doc["profiles"]]
ok = depths == [2, 1] and "random" in doc["model"]
for p in doc["profiles"]:
    conv1 = [o for o in p["ops"] if o["name"] == "body conv1 (q)"]
    ok = ok and len(conv1) == 1 and conv1[0]["macs"] == p["depth"] * 8 * 8 * 9 * 16 * 16
    # 2-bit layers run conv3x3_q2 here and are set beside its quad-word limit
    # (one run per depth: the limits of the profile are those measured just before it)
    limit = p["peak"]["int_quad_gmac_per_s" if doc["kernel"] == "conv3x3_q2" else "int_pair_gmac_per_s"]
    ok = ok and abs(conv1[0]["fraction_of_limit"] * limit - conv1[0]["gmac_per_s"]) <= 1e-6 * conv1[0]["gmac_per_s"]
print("" if ok else "unexpected --arch profile: %r" % doc)
sys.exit(0 if ok else 1)
PY
# The body kernel is reported, and is the one QSR_KERNEL forces.
for forced in portable:conv3x3_q tiled:conv3x3_q_tiled; do
    QSR_KERNEL=${forced%%:*} "$CLI" bench --arch c --channels 8 --blocks 1 --scale 2 --bits 2 \
        --size 16x16 --ops --json >"$TMP/kernel.json" 2>"$TMP/err" ||
        fail "bench with QSR_KERNEL=${forced%%:*}: $(cat "$TMP/err")"
    python3 -c 'import json, sys; k = json.load(open(sys.argv[1]))["kernel"]; sys.exit(k != sys.argv[2])' \
        "$TMP/kernel.json" "${forced#*:}" || fail "QSR_KERNEL=${forced%%:*}: kernel is not ${forced#*:}"
done
for bad in "--arch x" "--arch c -m $TMP/model.qsr" "--channels 8" "--arch c --scale 5"; do
    # shellcheck disable=SC2086
    "$CLI" bench $bad --size 8x8 >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] || fail "bench $bad: expected a usage error: $(cat "$TMP/err")"
done
"$CLI" bench --peak --json >"$TMP/peak.json" 2>"$TMP/err" || fail "bench --peak: $(cat "$TMP/err")"
grep -q '"int_pair_gmac_per_s"' "$TMP/peak.json" || fail "bench --peak: $(cat "$TMP/peak.json")"

finish
