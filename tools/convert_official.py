#!/usr/bin/python3
"""Convert an official QuantSR-C checkpoint (QEDSR_Ours state_dict) to .qsr.

    /usr/bin/python3 tools/convert_official.py QuantSR_C_x4_4bit.pth models/official_x4_w4a4.qsr

The official x4 4-bit model is EDSR-style with 64 channels and 32 blocks. Channels, blocks and
scale are read from the tensor shapes; the bit width is not stored in the state_dict, so it is
given with --bits (default 4, the published model).

Block ranking: the official test script (basicsr/test_slimmable_4bit_x4.py) lists the blocks
most important first ('body.31', 'body.30', 'body.29', 'body.8', ...). It skips the blocks at
list positions > B//2 at the half level and > B//4 at the quarter level, so the half level keeps
B//2+1 blocks and the quarter level B//4+1: depth levels 32, 17, 9 for B = 32. That list is the
default --rank for 32-block models; other block counts need --rank.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qsr_format as qf  # noqa: E402
from export import model_to_qsr  # noqa: E402
from quantsr_c import QuantSRC, depth_levels  # noqa: E402

# importance order of the official 4-bit x4 model, most important first (test script)
OFFICIAL_RANK_32 = [31, 30, 29, 8, 27, 13, 28, 15, 7, 10, 18, 17, 19, 20, 22, 6, 11, 16, 12, 23,
                    24, 25, 21, 14, 9, 26, 5, 4, 3, 2, 1, 0]


def unwrap(state):
    for key in ('params_ema', 'params', 'state_dict', 'model'):
        if key in state and isinstance(state[key], dict):
            state = state[key]
            break
    return {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}


def infer_config(state):
    if 'conv_first.weight' not in state:
        raise SystemExit('not a QEDSR_Ours state_dict: conv_first.weight missing')
    channels = state['conv_first.weight'].shape[0]
    blocks = 0
    while f'body.{blocks}.conv1.weight' in state:
        blocks += 1
    if blocks == 0:
        raise SystemExit('not a QEDSR_Ours state_dict: no body.N.conv1.weight')
    if 'upsample.2.weight' in state:
        scale = 4
    else:
        rows = state['upsample.0.weight'].shape[0]
        if rows == 4 * channels:
            scale = 2
        elif rows == 9 * channels:
            scale = 3
        else:
            raise SystemExit(f'upsample.0.weight has {rows} output channels; expected 4C or 9C')
    return scale, channels, blocks


def parse_rank(text, blocks):
    names = [s.strip().strip('\'"') for s in text.split(',') if s.strip()]
    rank = [int(n.split('.')[-1]) for n in names]
    if sorted(rank) != list(range(blocks)):
        raise SystemExit(f'--rank must list every block 0..{blocks - 1} once, got {rank}')
    return rank


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoint', help='official .pth (state_dict, optionally under "params")')
    p.add_argument('out', help='output .qsr')
    p.add_argument('--bits', type=int, default=4, choices=(2, 3, 4))
    p.add_argument('--rank', help='comma-separated importance list, most important first '
                   '(e.g. "body.31,body.30,..."); default: the official 32-block list')
    args = p.parse_args(argv)
    state = unwrap(torch.load(args.checkpoint, map_location='cpu'))
    scale, channels, blocks = infer_config(state)
    model = QuantSRC(scale=scale, channels=channels, blocks=blocks, bits_w=args.bits, bits_a=args.bits)
    model.load_official(state)
    model.eval()
    if args.rank:
        rank = parse_rank(args.rank, blocks)
    elif blocks == len(OFFICIAL_RANK_32):
        rank = OFFICIAL_RANK_32
    else:
        raise SystemExit(f'{blocks} blocks: give the importance ranking with --rank')
    q = model_to_qsr(model, rank, depth_levels(blocks))
    size = qf.write_qsr(args.out, q)
    qf.read_qsr(args.out)
    print(f'{args.out}: {size} bytes, x{scale} C={channels} B={blocks} w{args.bits}a{args.bits}, '
          f'depth levels {q.depth_levels}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
