#!/usr/bin/python3
"""The same network, in the same run: `quantsr bench` against PyTorch CPU fp32.

    /usr/bin/python3 tools/bench_vs_torch.py MODEL.qsr [--size 256x256] [--depth D]
        [--runs 3] [--threads 2] [--quantsr build/quantsr] [--json]

PyTorch runs the model's network in fp32 (quantized layers with their dequantized weights
code * a_w and no activation quantizer: what an fp32 framework would run), once in NCHW and
once in channels_last memory format, with `--threads` threads, on the same synthetic input
size. quantsr runs the model's own (quantized) path through `quantsr bench --ops --json`
(one warm-up, one profiled run: device time). The device time of quantsr is compared with
PyTorch's wall time. The script runs `--runs` rounds after one PyTorch warm-up per format,
each round one quantsr run, one NCHW and one channels_last run back to back: a shared CPU
changes speed over seconds to minutes, and a round's three runs see about the same machine.
It prints the median of each time and the median of the rounds' ratios (the ratio a single
round gives, with the machine's phase drawn out); absolute times on a shared CPU are noise.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qsr_format as qf  # noqa: E402
from bench_compare import run_bench  # noqa: E402


class TorchNetwork(torch.nn.Module):
    """QuantSR-C in fp32: conv_first, the kept blocks, conv_after_body + skip, upsampler,
    conv_last, with the model's depth (skipped blocks keep their shortcut)."""

    def __init__(self, model, depth):
        super().__init__()
        self.m = model
        t = {name: torch.from_numpy(np.asarray(x.array, dtype=np.float32))
             for name, x in model.tensors.items()}
        self.kept = set(model.block_rank[:depth])
        self.w = {}
        for name in t:
            if name.endswith('.weight'):
                layer = name[:-len('.weight')]
                w = t[name].float()
                step = t.get(layer + '.weight_step')
                if step is not None:  # dequantize: code * a_w (per output channel or one)
                    w = w * step.float().view(-1, 1, 1, 1)
                self.w[layer] = (w.contiguous(), t[layer + '.bias'].float())
        self.shortcut = [float(t[f'body.{i}.shortcut'][0]) for i in range(model.blocks)]

    def conv(self, name, x):
        w, b = self.w[name]
        return F.conv2d(x, w, b, 1, 1)

    def forward(self, x):
        f = self.conv('conv_first', x)
        h = f
        for i in range(self.m.blocks):
            if i in self.kept:
                u = self.conv(f'body.{i}.conv2', torch.relu(self.conv(f'body.{i}.conv1', h)))
                h = h * self.shortcut[i] + u
            else:
                h = h * self.shortcut[i]
        r = self.conv('conv_after_body', h) + f
        for k, stage in enumerate(qf.upsample_stages(self.m.scale)):
            r = F.pixel_shuffle(self.conv(f'upsample.{k}', r), stage)
        return self.conv('conv_last', r)


def time_torch(net, x):
    """One run's wall time, ms."""
    with torch.no_grad():
        t0 = time.perf_counter()
        net(x)
        return (time.perf_counter() - t0) * 1e3


def summarize(rounds):
    """Medians of the rounds' times and of their ratios (PyTorch / quantsr)."""
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    for fmt in ('nchw', 'channels_last'):
        med['speedup_vs_' + fmt] = statistics.median(
            r['torch_' + fmt + '_ms'] / r['quantsr_gpu_ms'] for r in rounds)
    return med


def to_channels_last(net):
    net.w = {k: (w.contiguous(memory_format=torch.channels_last), b) for k, (w, b) in net.w.items()}
    return net


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description='quantsr against PyTorch CPU fp32, same network')
    p.add_argument('model')
    p.add_argument('--size', default='256x256')
    p.add_argument('--depth', type=int, default=0, help='blocks to run (default: all)')
    p.add_argument('--runs', type=int, default=3, help='rounds (default 3)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--quantsr', default=os.path.join(here, '..', 'build', 'quantsr'))
    p.add_argument('--json', action='store_true', help='print one JSON object')
    args = p.parse_args(argv)
    try:
        model = qf.read_qsr(args.model)
        w, h = (int(v) for v in args.size.split('x'))
    except (OSError, ValueError, qf.QsrFormatError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    if args.runs < 1:
        print('error: --runs takes 1 or more', file=sys.stderr)
        return 1
    depth = args.depth or model.blocks
    torch.set_num_threads(args.threads)
    x = torch.rand(1, 3, h, w) * 255.0
    nchw = TorchNetwork(model, depth)
    cl = to_channels_last(TorchNetwork(model, depth))
    x_cl = x.contiguous(memory_format=torch.channels_last)
    time_torch(nchw, x)  # warm-ups
    time_torch(cl, x_cl)
    rounds = []
    for _ in range(args.runs):
        try:
            quantsr = run_bench(args.quantsr, args.model, args.size, depth)
        except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
            detail = getattr(e, 'stderr', '') or ''
            print(f'error: quantsr bench failed: {e} {detail}'.rstrip(), file=sys.stderr)
            return 1
        device = quantsr['device']
        rounds.append({'quantsr_gpu_ms': quantsr['gpu_ms'], 'torch_nchw_ms': time_torch(nchw, x),
                       'torch_channels_last_ms': time_torch(cl, x_cl)})
    med = summarize(rounds)
    result = {
        'model': args.model, 'width': w, 'height': h, 'depth': depth, 'threads': args.threads,
        'quantsr_device': device, 'rounds': rounds, **med,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f'model {args.model} (x{model.scale}, C{model.channels} B{model.blocks}, '
          f'W{model.bits_w} A{model.bits_a}), input {w}x{h}, depth {depth}')
    for i, r in enumerate(rounds):
        print(f'round {i + 1}: quantsr {r["quantsr_gpu_ms"]:.1f} ms, NCHW '
              f'{r["torch_nchw_ms"]:.1f} ms, channels_last {r["torch_channels_last_ms"]:.1f} ms')
    print(f'medians of {len(rounds)} round(s):')
    print(f'quantsr ({device}), device time      {med["quantsr_gpu_ms"]:10.1f} ms')
    print(f'PyTorch fp32 NCHW, {args.threads} threads         {med["torch_nchw_ms"]:10.1f} ms   '
          f'PyTorch / quantsr = {med["speedup_vs_nchw"]:.2f}')
    print(f'PyTorch fp32 channels_last, {args.threads} threads {med["torch_channels_last_ms"]:10.1f}'
          f' ms   PyTorch / quantsr = {med["speedup_vs_channels_last"]:.2f}')
    print('(ratios: medians of the rounds\' own; above 1: quantsr is faster)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
