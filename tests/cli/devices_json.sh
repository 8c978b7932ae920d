#!/usr/bin/env bash
# devices_json.sh - `quantsr devices --json` lists every Vulkan device with every feature field
# (the CI runs on lavapipe, so at least one device exists), numbered 1, 2, ... as -g takes them;
# the text form shows the same devices; -g with a listed number opens that device.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli

"$CLI" devices --json >"$TMP/devices.json" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "devices --json: exit $rc: $(cat "$TMP/err")"
python3 - "$TMP/devices.json" <<'PY' || fail "devices --json: see above"
import json, re, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
devices = doc["devices"]
errors = [] if devices else ["no device listed"]
types = {"other", "integrated GPU", "discrete GPU", "virtual GPU", "CPU"}
booleans = ["shader_int8", "storage_8bit", "storage_16bit", "shader_float16",
            "integer_dot_product", "integer_dot_product_accelerated", "shader_int16",
            "limits_forced"]
numbers = ["vendor_id", "device_id", "subgroup_size", "max_storage_buffer_range",
           "device_local_bytes", "max_workgroup_invocations", "max_shared_memory_bytes",
           "max_texel_buffer_elements", "max_push_constant_bytes", "memory_budget_cap"]
for i, d in enumerate(devices):
    if d.get("index") != i + 1:
        errors.append("device %d has index %r" % (i, d.get("index")))
    if not d.get("name"):
        errors.append("device %d has no name" % i)
    if d.get("type") not in types:
        errors.append("device %d type %r" % (i, d.get("type")))
    if not re.fullmatch(r"1\.\d+\.\d+", str(d.get("api_version"))):
        errors.append("device %d api_version %r" % (i, d.get("api_version")))
    for k in booleans:
        if not isinstance(d.get(k), bool):
            errors.append("device %d: %s is %r, not a boolean" % (i, k, d.get(k)))
    for k in numbers:
        if not isinstance(d.get(k), int) or isinstance(d.get(k), bool):
            errors.append("device %d: %s is %r, not an integer" % (i, k, d.get(k)))
    for k in ["max_workgroup_size", "max_workgroup_count"]:
        v = d.get(k)
        if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, int) and x >= 1 for x in v)):
            errors.append("device %d: %s is %r" % (i, k, v))
    if d.get("subgroup_size", 0) < 1 or d.get("max_storage_buffer_range", 0) < 1:
        errors.append("device %d: implausible limits %r" % (i, d))
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# QSR_FORCE_LIMITS=mobile: the forced limits and features are what is listed; a bad value is
# an error.
QSR_FORCE_LIMITS=mobile "$CLI" devices --json >"$TMP/mobile.json" 2>"$TMP/err" ||
    fail "QSR_FORCE_LIMITS=mobile devices --json: $(cat "$TMP/err")"
python3 - "$TMP/mobile.json" <<'PY' || fail "QSR_FORCE_LIMITS=mobile: limits not reported"
import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    ok = (d["limits_forced"] and d["max_workgroup_invocations"] <= 128 and
          d["max_texel_buffer_elements"] <= 65536 and d["memory_budget_cap"] == 64 << 20 and
          not d["shader_int8"] and not d["shader_int16"] and not d["shader_float16"] and
          not d["storage_8bit"] and not d["storage_16bit"])
    if not ok:
        print("not forced: %r" % d, file=sys.stderr)
        sys.exit(1)
PY
QSR_FORCE_LIMITS=tiny "$CLI" devices >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "QSR_FORCE_LIMITS" "$TMP/err" || fail "QSR_FORCE_LIMITS=tiny was accepted"

count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["devices"]))' \
    "$TMP/devices.json" 2>/dev/null || echo 0)
"$CLI" devices >"$TMP/devices.txt" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "devices: exit $rc: $(cat "$TMP/err")"
[ "$(grep -c '^[0-9]*: ' "$TMP/devices.txt")" -eq "$count" ] ||
    fail "devices text lists $(grep -c '^[0-9]*: ' "$TMP/devices.txt") devices, JSON $count"

# -g picks a listed device; a number past the list fails with exit 1 (checked with `bench`,
# the cheapest command that opens a device, on a tiny model).
MAKE_MODEL=${QSR_BINARY_DIR:-}/make_random_model
if [ -x "$MAKE_MODEL" ] && [ "$count" -ge 1 ]; then
    "$MAKE_MODEL" "$TMP/model.qsr" --scale 2 --channels 8 --blocks 2 --seed 1 >/dev/null ||
        fail "make_random_model failed"
    "$CLI" bench -m "$TMP/model.qsr" --size 8x8 --runs 1 -g 1 >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "bench -g 1: exit $rc: $(cat "$TMP/err")"
    "$CLI" bench -m "$TMP/model.qsr" --size 8x8 --runs 1 -g $((count + 1)) >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "bench -g $((count + 1)) (no such device): exit $rc, expected 1"
    grep -q "^quantsr: " "$TMP/err" || fail "no error message for a missing device"
fi

finish
