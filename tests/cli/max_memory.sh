#!/usr/bin/env bash
# max_memory.sh - `--max-memory MIB`: a small budget makes the tiles smaller and changes no byte
# of the output (tiling is exact); a budget no tile fits is a clear error with no output file.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
setup_test cli make_model

"$MAKE_MODEL" "$TMP/small.qsr" --scale 2 --channels 8 --blocks 2 --seed 5 >/dev/null || fail "model"
"$MAKE_MODEL" "$TMP/wide.qsr" --scale 4 --channels 128 --blocks 8 --seed 6 >/dev/null || fail "model"
python3 - "$TMP/in.png" <<'PY'
import struct, sys, zlib
w, h = 96, 80
raw = b"".join(b"\0" + bytes((x * 5 + y * 3 + c * 70) % 256 for x in range(w) for c in range(3)) for y in range(h))
def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY

"$CLI" upscale -m "$TMP/small.qsr" -i "$TMP/in.png" -o "$TMP/free.png" 2>"$TMP/free.log" || fail "unlimited run"
"$CLI" upscale -m "$TMP/small.qsr" -i "$TMP/in.png" -o "$TMP/tight.png" --max-memory 1 2>"$TMP/tight.log" \
    || fail "run with --max-memory 1"
cmp -s "$TMP/free.png" "$TMP/tight.png" || fail "--max-memory changed the output"

if "$CLI" upscale -m "$TMP/wide.qsr" -i "$TMP/in.png" -o "$TMP/none.png" --max-memory 1 2>"$TMP/none.log"; then
    fail "a budget no tile fits was accepted"
fi
grep -q "memory budget" "$TMP/none.log" || fail "no clear message: $(cat "$TMP/none.log")"
[ ! -e "$TMP/none.png" ] || fail "an output file was written"
ls -a "$TMP" | grep -q '\.tmp-' && fail "a temporary file was left"

finish
