#!/usr/bin/python3
"""The same network, in the same run: `quantsr bench` against PyTorch CPU fp32.

    /usr/bin/python3 tools/bench_vs_torch.py MODEL.qsr [--size 256x256] [--depth D]
        [--runs 3] [--threads 2] [--quantsr build/quantsr] [--json]

PyTorch runs the model's network in fp32 (quantized layers with their dequantized weights
code * a_w and no activation quantizer: what an fp32 framework would run), once in NCHW and
once in channels_last memory format, with `--threads` threads, on the same synthetic input
size. quantsr runs the model's own (quantized) path through `quantsr bench --ops --json`
(one warm-up, one profiled run: device time). The device time of quantsr is compared with
PyTorch's wall time, medians of `--runs` runs after one warm-up. Ratios are from one run of
this script; absolute times on a shared CPU are noise.
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


def time_torch(net, x, runs):
    times = []
    with torch.no_grad():
        for i in range(runs + 1):
            t0 = time.perf_counter()
            net(x)
            if i:  # the first run is the warm-up
                times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def to_channels_last(net):
    net.w = {k: (w.contiguous(memory_format=torch.channels_last), b) for k, (w, b) in net.w.items()}
    return net


def run_quantsr(binary, model, size, depth):
    cmd = [binary, 'bench', '--ops', '--json', '-m', model, '--size', size, '--depth', str(depth),
           '--depth-any']
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    return doc['device'], doc['profiles'][0]['gpu_ms']


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description='quantsr against PyTorch CPU fp32, same network')
    p.add_argument('model')
    p.add_argument('--size', default='256x256')
    p.add_argument('--depth', type=int, default=0, help='blocks to run (default: all)')
    p.add_argument('--runs', type=int, default=3)
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
    depth = args.depth or model.blocks
    torch.set_num_threads(args.threads)
    device, quantsr_ms = run_quantsr(args.quantsr, args.model, args.size, depth)
    x = torch.rand(1, 3, h, w) * 255.0
    net = TorchNetwork(model, depth)
    nchw_ms = time_torch(net, x, args.runs)
    cl_ms = time_torch(to_channels_last(net), x.contiguous(memory_format=torch.channels_last),
                       args.runs)
    result = {
        'model': args.model, 'width': w, 'height': h, 'depth': depth, 'threads': args.threads,
        'quantsr_device': device, 'quantsr_gpu_ms': quantsr_ms,
        'torch_nchw_ms': nchw_ms, 'torch_channels_last_ms': cl_ms,
        'speedup_vs_nchw': nchw_ms / quantsr_ms, 'speedup_vs_channels_last': cl_ms / quantsr_ms,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f'model {args.model} (x{model.scale}, C{model.channels} B{model.blocks}, '
          f'W{model.bits_w} A{model.bits_a}), input {w}x{h}, depth {depth}')
    print(f'quantsr ({device}), device time      {quantsr_ms:10.1f} ms')
    print(f'PyTorch fp32 NCHW, {args.threads} threads         {nchw_ms:10.1f} ms   '
          f'PyTorch / quantsr = {nchw_ms / quantsr_ms:.2f}')
    print(f'PyTorch fp32 channels_last, {args.threads} threads {cl_ms:10.1f} ms   '
          f'PyTorch / quantsr = {cl_ms / quantsr_ms:.2f}')
    print('(a ratio above 1: quantsr is faster)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
