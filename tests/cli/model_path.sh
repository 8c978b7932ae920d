#!/usr/bin/env bash
# model_path.sh - where the default model and -n NAME are looked for: <exe_dir>/../models, then
# <exe_dir>/models, then the installed <exe_dir>/../share/quantsr/models, then $QSR_MODEL_DIR,
# in that order; a clear error when none has it. The binary is copied into a scratch tree so
# the repository's own models/ does not interfere.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

APP=$TMP/app
mkdir -p "$APP/bin" "$TMP/elsewhere"
cp "$CLI" "$APP/bin/quantsr"
DEFAULT=quantsr_c_x4_w4a4.qsr
make_model "$TMP/x2.qsr" --scale 2 --channels 8 --blocks 2 --seed 1
make_model "$TMP/x3.qsr" --scale 3 --channels 8 --blocks 2 --seed 2
make_model "$TMP/x4.qsr" --scale 4 --channels 8 --blocks 2 --seed 3

# info_scale [ARGS...]: runs the copied binary's `info --json` without QSR_MODEL_DIR unless the
# caller sets it; prints "<scale> <path>" of the model it used, leaves the exit code in $rc.
info_scale() {
    "$APP/bin/quantsr" info --json "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 0 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); print(d["scale"], d["path"])' "$TMP/out"
}

# Nowhere: the error says how to fix it and where it looked.
unset QSR_MODEL_DIR
info_scale >/dev/null
[ "$rc" -eq 1 ] || fail "no model anywhere: exit $rc, expected 1"
grep -q "no default model found; pass -m MODEL" "$TMP/err" || fail "no-model message: $(cat "$TMP/err")"
grep -q "QSR_MODEL_DIR" "$TMP/err" || fail "no-model message does not mention QSR_MODEL_DIR"

# Only in $QSR_MODEL_DIR.
cp "$TMP/x3.qsr" "$TMP/elsewhere/$DEFAULT"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale)
[ "$got" = "3 $TMP/elsewhere/$DEFAULT" ] || fail "QSR_MODEL_DIR: got '$got' ($(cat "$TMP/err"))"

# The installed layout (bin/quantsr, share/quantsr/models) comes before $QSR_MODEL_DIR.
INSTALLED=${QSR_INSTALLED_MODEL_DIR:-../share/quantsr/models}
mkdir -p "$APP/bin/$INSTALLED"
cp "$TMP/x4.qsr" "$APP/bin/$INSTALLED/$DEFAULT"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale)
[ "$got" = "4 $APP/bin/$INSTALLED/$DEFAULT" ] || fail "<exe_dir>/$INSTALLED: got '$got' ($(cat "$TMP/err"))"

# <exe_dir>/models comes before both.
mkdir -p "$APP/bin/models"
cp "$TMP/x2.qsr" "$APP/bin/models/$DEFAULT"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale)
[ "$got" = "2 $APP/bin/models/$DEFAULT" ] || fail "<exe_dir>/models: got '$got' ($(cat "$TMP/err"))"

# <exe_dir>/../models (the repository layout) comes first.
mkdir -p "$APP/models"
cp "$TMP/x4.qsr" "$APP/models/$DEFAULT"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale)
[ "$got" = "4 $APP/bin/../models/$DEFAULT" ] || fail "<exe_dir>/../models: got '$got' ($(cat "$TMP/err"))"

# -n NAME, with or without .qsr, searched the same way; a missing name fails clearly.
cp "$TMP/x3.qsr" "$TMP/elsewhere/custom.qsr"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale -n custom)
[ "$got" = "3 $TMP/elsewhere/custom.qsr" ] || fail "-n custom: got '$got' ($(cat "$TMP/err"))"
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale -n custom.qsr)
[ "$got" = "3 $TMP/elsewhere/custom.qsr" ] || fail "-n custom.qsr: got '$got' ($(cat "$TMP/err"))"
QSR_MODEL_DIR=$TMP/elsewhere info_scale -n missing >/dev/null
[ "$rc" -eq 1 ] && grep -q "model 'missing' not found" "$TMP/err" || fail "-n missing: exit $rc: $(cat "$TMP/err")"
info_scale -n ../models/quantsr_c_x4_w4a4 >/dev/null
[ "$rc" -eq 1 ] || fail "-n with a path: exit $rc, expected 1"
# -m and -n together are ambiguous.
info_scale -m "$TMP/x2.qsr" -n custom >/dev/null
[ "$rc" -eq 1 ] && grep -q "either -m" "$TMP/err" || fail "-m with -n: exit $rc: $(cat "$TMP/err")"
# -m wins over every default.
got=$(QSR_MODEL_DIR=$TMP/elsewhere info_scale -m "$TMP/x2.qsr")
[ "$got" = "2 $TMP/x2.qsr" ] || fail "-m: got '$got'"

finish
