#!/usr/bin/python3
"""Export a training checkpoint (tools/train.py) to a .qsr file.

    /usr/bin/python3 tools/export.py .train/x4_w4a4/final.pt models/quantsr_c_x4_w4a4.qsr

Mapping from the PyTorch parameters (official QEDSR_Ours names) to the .qsr tensors:

    body.i.convk.weight            -> QW codes clamp(round_half_even(w / alpha), -2^(b-1), 2^(b-1)-1)
    body.i.convk.alpha             -> body.i.convk.weight_step   [1]
    body.i.convk.ActOurs.alpha     -> body.i.convk.act_step      [1]
    body.i.convk.channel_threshold -> body.i.convk.act_shift     [C]
    body.i.convk.ActOurs.signed    -> body.i.convk.act_signed    [1] (I32)
    body.i.learnable_shortcut      -> body.i.shortcut            [1]
    upsample.0 / upsample.2        -> upsample.0 / upsample.1    (PixelShuffle modules dropped)

Depth levels: B, B//2+1, B//4+1, deduplicated and strictly decreasing. This matches the official
test script, which keeps the blocks at importance positions 0..B//2 at the half level and
0..B//4 at the quarter level. block_rank is the ranking the checkpoint was DQA-trained with
(tools/train.py), most important first.
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archs  # noqa: E402
import qsr_format as qf  # noqa: E402
from archs.quantsr_t import QuantSRT  # noqa: E402
from quantsr_c import FP_BITS, depth_levels, quant_range  # noqa: E402


def _np(t):
    return t.detach().cpu().float().numpy()


def quantized_layer(t, prefix, layer, bits_w, flat_weight=False):
    """The tensors of one quantized layer (QConv2d or QLinear): weight codes, bias, steps,
    input shift and signedness; an FP layer (bits 32) gives weight and bias only."""
    t[prefix + 'bias'] = qf.QsrTensor(qf.DTYPE_F32, _np(layer.bias))
    if bits_w == FP_BITS:
        t[prefix + 'weight'] = qf.QsrTensor(qf.DTYPE_F32, _np(layer.weight))
        return
    alpha = layer.alpha.detach().float()
    qn, qp = quant_range(bits_w, True)
    codes = torch.clamp(torch.round(layer.weight.detach().float() / alpha), qn, qp)
    t[prefix + 'weight'] = qf.QsrTensor(qf.DTYPE_QW, codes.to(torch.int8).numpy(), bits_w)
    t[prefix + 'weight_step'] = qf.QsrTensor(qf.DTYPE_F32, _np(alpha.view(-1)))
    activation(t, prefix, layer)


def activation(t, prefix, quant):
    """act_step, act_shift (flattened, channel order of the layer's input) and act_signed of a
    module with `channel_threshold` and an `ActOurs` quantizer."""
    t[prefix + 'act_step'] = qf.QsrTensor(qf.DTYPE_F32, _np(quant.ActOurs.alpha.view(-1)))
    t[prefix + 'act_shift'] = qf.QsrTensor(qf.DTYPE_F32, _np(quant.channel_threshold.reshape(-1)))
    signed = int(round(float(quant.ActOurs.signed.view(-1)[0])))
    t[prefix + 'act_signed'] = qf.QsrTensor(qf.DTYPE_I32, np.array([signed], dtype=np.int32))


def model_to_qsr_t(model, block_rank, levels=None):
    """QsrModel of a QuantSRT module (docs/model-format.md, arch 2)."""
    if levels is None:
        levels = depth_levels(model.blocks)
    if sorted(int(b) for b in block_rank) != list(range(model.blocks)):
        raise ValueError(f'block_rank {list(block_rank)} is not a permutation of 0..{model.blocks - 1}')
    q = qf.QsrModel(model.scale, model.embed_dim, model.blocks, model.bits_w, model.bits_a,
                    levels, [int(b) for b in block_rank],
                    rgb_mean=tuple(model.mean.view(-1).tolist()), img_range=model.img_range,
                    arch=qf.ARCH_QUANTSR_T, heads=model.heads, window=model.window,
                    mlp_hidden=int(model.embed_dim * model.mlp_ratio),
                    group_depths=list(model.depths))
    t = q.tensors

    def f32(name, value):
        t[name] = qf.QsrTensor(qf.DTYPE_F32, _np(value))

    f32('conv_first.weight', model.conv_first.weight)
    f32('conv_first.bias', model.conv_first.bias)
    f32('patch_norm.weight', model.patch_norm.weight)
    f32('patch_norm.bias', model.patch_norm.bias)
    layers = [layer for group in model.layers for layer in group.blocks]
    for i, layer in enumerate(layers):
        p = f'layer.{i}.'
        f32(p + 'norm1.weight', layer.norm1.weight)
        f32(p + 'norm1.bias', layer.norm1.bias)
        quantized_layer(t, p + 'qkv.', layer.attn.qkv, model.bits_w)
        f32(p + 'attn.rel_bias', layer.attn.relative_position_bias_table)
        if model.quantized:
            for name in ('q', 'k', 'v'):
                quant = getattr(layer.attn, name + '_quant')
                activation(t, p + f'attn.{name}.', quant)
            if int(round(float(layer.attn.attn_quant.signed.view(-1)[0]))) != 0:
                raise ValueError(f'layer {i}: the softmax quantizer must be unsigned')
            f32(p + 'attn.p.act_step', layer.attn.attn_quant.alpha.view(-1))
        quantized_layer(t, p + 'proj.', layer.attn.proj, model.bits_w)
        f32(p + 'shortcut', layer.learnable_shortcut.view(-1))
        f32(p + 'norm2.weight', layer.norm2.weight)
        f32(p + 'norm2.bias', layer.norm2.bias)
        quantized_layer(t, p + 'fc1.', layer.fc1, model.bits_w)
        quantized_layer(t, p + 'fc2.', layer.fc2, model.bits_w)
    for g, group in enumerate(model.layers):
        quantized_layer(t, f'group.{g}.conv.', group.conv, model.bits_w)
    f32('norm.weight', model.norm.weight)
    f32('norm.bias', model.norm.bias)
    f32('conv_after_body.weight', model.conv_after_body.weight)
    f32('conv_after_body.bias', model.conv_after_body.bias)
    f32('upsample.0.weight', model.upsample[0].weight)
    f32('upsample.0.bias', model.upsample[0].bias)
    qf.validate_model(q)
    return q


def model_to_qsr(model, block_rank, levels=None):
    """QsrModel of a QuantSRC or QuantSRT module (trained or converted)."""
    if isinstance(model, QuantSRT):
        return model_to_qsr_t(model, block_rank, levels)
    if levels is None:
        levels = depth_levels(model.blocks)
    if sorted(int(b) for b in block_rank) != list(range(model.blocks)):
        raise ValueError(f'block_rank {list(block_rank)} is not a permutation of 0..{model.blocks - 1}')
    q = qf.QsrModel(model.scale, model.channels, model.blocks, model.bits_w, model.bits_a,
                    levels, [int(b) for b in block_rank],
                    rgb_mean=tuple(model.mean.view(-1).tolist()), img_range=model.img_range)
    t = q.tensors

    def f32(name, value):
        t[name] = qf.QsrTensor(qf.DTYPE_F32, _np(value))

    f32('conv_first.weight', model.conv_first.weight)
    f32('conv_first.bias', model.conv_first.bias)
    for i, block in enumerate(model.body):
        for k, conv in ((1, block.conv1), (2, block.conv2)):
            p = f'body.{i}.conv{k}.'
            if model.bits_w == FP_BITS:
                f32(p + 'weight', conv.weight)
                f32(p + 'bias', conv.bias)
                continue
            alpha = conv.alpha.detach().float()
            qn, qp = quant_range(model.bits_w, True)
            codes = torch.clamp(torch.round(conv.weight.detach().float() / alpha), qn, qp)
            t[p + 'weight'] = qf.QsrTensor(qf.DTYPE_QW, codes.to(torch.int8).numpy(), model.bits_w)
            f32(p + 'bias', conv.bias)
            f32(p + 'weight_step', alpha.view(-1))
            f32(p + 'act_step', conv.ActOurs.alpha.view(-1))
            f32(p + 'act_shift', conv.channel_threshold.view(-1))
            signed = int(round(float(conv.ActOurs.signed.view(-1)[0])))
            t[p + 'act_signed'] = qf.QsrTensor(qf.DTYPE_I32, np.array([signed], dtype=np.int32))
        f32(f'body.{i}.shortcut', block.learnable_shortcut.view(-1))
    f32('conv_after_body.weight', model.conv_after_body.weight)
    f32('conv_after_body.bias', model.conv_after_body.bias)
    convs = [m for m in model.upsample if isinstance(m, torch.nn.Conv2d)]
    for k, conv in enumerate(convs):
        f32(f'upsample.{k}.weight', conv.weight)
        f32(f'upsample.{k}.bias', conv.bias)
    f32('conv_last.weight', model.conv_last.weight)
    f32('conv_last.bias', model.conv_last.bias)
    qf.validate_model(q)
    return q


def load_checkpoint_model(path):
    ckpt = torch.load(path, map_location='cpu')
    cfg = ckpt['config']
    model = archs.build(cfg)
    # the weight average, when the run kept one (train.py --ema), is what validation judged
    model.load_state_dict(ckpt.get('model_ema') or ckpt['model'])
    model.eval()
    rank = ckpt.get('block_rank') or list(range(model.blocks))
    return model, rank, ckpt


def parse_levels(text, blocks):
    """'8,5' -> [8, 5]: strictly decreasing block counts starting with every block."""
    try:
        levels = [int(v) for v in text.split(',')]
    except ValueError:
        raise SystemExit(f'export.py: --depth-levels takes block counts like 8,5,3, not {text!r}')
    if (not levels or levels[0] != blocks or any(b >= a for a, b in zip(levels, levels[1:]))
            or levels[-1] < 1):
        raise SystemExit(f'export.py: --depth-levels {text!r} must start at {blocks} (every '
                         'block) and decrease strictly down to at least 1')
    return levels


def export(ckpt_path, out_path, levels_text=None):
    model, rank, _ = load_checkpoint_model(ckpt_path)
    levels = parse_levels(levels_text, model.blocks) if levels_text else None
    q = model_to_qsr(model, rank, levels)
    size = qf.write_qsr(out_path, q)
    qf.read_qsr(out_path)  # round-trip validation
    return size, q


def main(argv=None):
    p = argparse.ArgumentParser(description='Export a tools/train.py checkpoint to .qsr')
    p.add_argument('checkpoint')
    p.add_argument('out')
    p.add_argument('--depth-levels', help='levels to offer, e.g. 8,5 (default: B, B//2+1, '
                   'B//4+1, the levels train.py trains); a level the model is not good enough '
                   'at can be left out')
    args = p.parse_args(argv)
    size, q = export(args.checkpoint, args.out, args.depth_levels)
    print(f'{args.out}: {size} bytes, arch {q.arch}, x{q.scale} C={q.channels} B={q.blocks} '
          f'w{q.bits_w}a{q.bits_a}, depth levels {q.depth_levels}, block_rank {q.block_rank}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
