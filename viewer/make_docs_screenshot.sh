#!/usr/bin/env bash
# make_docs_screenshot.sh - remakes docs/viewer.png with quantsr-view's headless mode:
#     viewer/make_docs_screenshot.sh [BUILD_DIR]      (default: build)
# Uses models/quantsr_c_x4_w4a4.qsr when it exists, else a random x4 model from
# make_random_model (its right side is then noise-like: weights are random, not trained).
# Runs under xvfb-run when there is no display.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
VIEW=$BUILD/quantsr-view
MODEL=$ROOT/models/quantsr_c_x4_w4a4.qsr
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ ! -x "$VIEW" ]; then
    echo "make_docs_screenshot: $VIEW is missing (build the quantsr-view target)" >&2
    exit 1
fi
if [ ! -f "$MODEL" ]; then
    MODEL=$TMP/random_x4.qsr
    "$BUILD/make_random_model" "$MODEL" --scale 4 --channels 16 --blocks 8 --seed 1 >/dev/null
    echo "make_docs_screenshot: no trained model, using a random one" >&2
fi
RUN=()
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then RUN=(xvfb-run -a); fi
"${RUN[@]}" "$VIEW" "$ROOT/assets/sample.png" -m "$MODEL" --size 1280x720 \
    --present vulkan --screenshot "$ROOT/docs/viewer.png"
