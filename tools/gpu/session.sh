#!/usr/bin/env bash
# session.sh - the one prepared run for a lent GPU machine (see prepare.sh), under 10 minutes:
#  1. trains a larger x4 W4A4 QuantSR-C (64 channels, 16 blocks) in PyTorch on CUDA, in the
#     background: FP32 pre-training then 4-bit DQA fine-tuning, time-boxed (TRAIN_MIN, default
#     7 minutes in all), exported to $OUT/quantsr_c_x4_w4a4_c64b16.qsr;
#  2. meanwhile builds the runtime against the carried Debian packages and runs the test
#     suite and `quantsr bench` on the GPU (Vulkan), results in $OUT.
# Everything is logged to $OUT/session.log; a part that cannot run says why and the rest goes on.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$SRC/out}
GPU=$SRC/.data/gpu
TRAIN_MIN=${TRAIN_MIN:-7}
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
cd "$SRC"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

# 1. training, in the background
FP_MIN=$(python3 -c "print(round($TRAIN_MIN * 0.4, 2))")
Q_MIN=$(python3 -c "print(round($TRAIN_MIN * 0.6 - 0.5, 2))")
(
    python3 tools/train.py --device "${TRAIN_DEVICE:-cuda}" --data "$GPU/train" --scale 4 --bits 32 \
        --channels 64 --blocks 16 --steps 100000 --time-budget "$FP_MIN" --batch 32 --patch 48 \
        --lr 5e-4 --dqa 0 --val "$GPU/Set5" --val-every 1000 --log-every 200 \
        --out /tmp/qsr_fp --cache /tmp/qsr_cache --threads 8 &&
    python3 tools/train.py --device "${TRAIN_DEVICE:-cuda}" --data "$GPU/train" --scale 4 --bits 4 \
        --channels 64 --blocks 16 --fp-init /tmp/qsr_fp/final.pt --dqa 1 --dqa-start 0 \
        --steps 100000 --time-budget "$Q_MIN" --batch 16 --patch 48 --lr 2e-4 --warmup 50 \
        --val "$GPU/Set5" --val-every 500 --log-every 100 --out /tmp/qsr_q \
        --cache /tmp/qsr_cache --threads 8 &&
    python3 tools/export.py /tmp/qsr_q/final.pt "$OUT/quantsr_c_x4_w4a4_c64b16.qsr" &&
    cp /tmp/qsr_fp/train.log "$OUT/train_fp.log" && cp /tmp/qsr_q/train.log "$OUT/train_q.log"
) > "$OUT/train.out" 2>&1 &
TRAIN_PID=$!

# 2. Vulkan build, tests and benchmark
vulkan_part() {
    local root=/tmp/qsr_debs
    [ -n "$(ls "$GPU"/debs/*.deb 2>/dev/null)" ] || { echo "vulkan: no carried packages"; return 1; }
    mkdir -p $root && for f in "$GPU"/debs/*.deb; do dpkg -x "$f" $root; done
    export PATH=$root/usr/bin:$PATH
    export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
    export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
    cmake -S . -B /tmp/qsr_build -DCMAKE_BUILD_TYPE=Release -DQSR_BUILD_VIEWER=OFF \
        -DCMAKE_PREFIX_PATH=$root/usr -DVulkan_INCLUDE_DIR=$root/usr/include \
        -DVOLK_INCLUDE_DIR=$root/usr/include -DSTB_INCLUDE_DIR=$root/usr/include/stb \
        >/tmp/qsr_configure.log 2>&1 || { tail -20 /tmp/qsr_configure.log; return 1; }
    make -C /tmp/qsr_build -j16 >/tmp/qsr_make.log 2>&1 || { tail -30 /tmp/qsr_make.log; return 1; }
    /tmp/qsr_build/quantsr devices
    (cd /tmp/qsr_build && QSR_VALIDATION=0 timeout 240 ctest -j8 -E viewer --output-on-failure) \
        > "$OUT/ctest.log" 2>&1; tail -5 "$OUT/ctest.log"
    for size in 256x256 1024x1024; do
        /tmp/qsr_build/quantsr bench -m models/quantsr_c_x4_w4a4.qsr --size $size --runs 5 \
            --json > "$OUT/bench_x4_w4a4_$size.json" && echo "bench $size done"
    done
}
vulkan_part || echo "vulkan part did not complete"

wait $TRAIN_PID; echo "training exit $?"; tail -25 "$OUT/train.out"
