#!/usr/bin/python3
"""Golden outputs of small QuantSR-T models for tests/test_reference_t.c.

    /usr/bin/python3 tests/data/make_t_golden.py OUT_DIR
    /usr/bin/python3 tests/data/make_t_golden.py --fixture tests/data/quantsr_t_tiny.qsr

Builds small random QuantSR-T models with tools/ (embed 16, depths [2, 2], heads 2, window 4,
the quantizers initialised from a batch and every weight perturbed so every path matters, the
shortcuts moved away from 1 so skipped layers show), exports them to .qsr, runs
tools/reference.py (ReferenceModelT, the integer-exact oracle) on LR images whose sizes are
not multiples of the window at every depth level, and writes OUT_DIR/manifest.txt with one line
per case: `MODEL INPUT DEPTH EXPECTED` (paths relative to OUT_DIR).

--fixture writes the small x2 4-bit model that tests/test_model.c loads (committed, so the
loader tests need no PyTorch).

Exit status 77 (skip) when python3-torch, numpy or PIL is missing.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, '..', '..', 'tools')

try:
    import numpy as np
    import torch
    import PIL  # noqa: F401  (tools/data.py saves PNGs with it)
except ImportError as e:
    print(f'skip: {e}')
    sys.exit(77)

sys.path.insert(0, TOOLS)
import archs  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import qsr_format as qf  # noqa: E402
import reference  # noqa: E402

# (bits, scale, seed): every bit width the format allows in tools (4, 2, float) and every scale.
CASES = [(4, 2, 1), (2, 3, 2), (32, 4, 3), (4, 4, 4)]
# LR sizes (height, width): no edge a multiple of the window 4, so every run pads.
SIZES = [(11, 18), (13, 9)]
LEVELS = [4, 3, 2, 1]
RANK = [2, 0, 3, 1]


def small_t_model(bits, scale, seed, embed=16, hidden_ratio=2.0):
    """A QuantSR-T with quantizers initialised and weights perturbed so every path matters."""
    torch.manual_seed(seed)
    m = archs.build({'arch': 't', 'scale': scale, 'embed_dim': embed, 'depths': [2, 2],
                     'heads': 2, 'window': 4, 'mlp_ratio': hidden_ratio, 'bits_w': bits,
                     'bits_a': bits})
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        # larger attention weights and biases, so the softmax is far from uniform
        for group in m.layers:
            for layer in group.blocks:
                layer.attn.qkv.weight.mul_(8.0)
                layer.attn.relative_position_bias_table.mul_(20.0)
                layer.learnable_shortcut.fill_(0.6 + 0.3 * torch.rand(1).item())
    m.train()
    with torch.no_grad():
        m(torch.rand(2, 3, 12, 12))
    m.eval()
    return m


def test_image(rng, h, w):
    base = np.linspace(0, 255, h * w * 3).reshape(h, w, 3)
    return np.clip(base + rng.normal(0, 40, base.shape), 0, 255).astype(np.uint8)


def write_fixture(path):
    m = small_t_model(4, 2, 7, embed=8, hidden_ratio=2.0)
    q = export.model_to_qsr(m, RANK, LEVELS)
    qf.write_qsr(path, q)
    qf.read_qsr(path)
    print(f'{path}: {os.path.getsize(path)} bytes')


def main(argv):
    if len(argv) == 2 and argv[0] == '--fixture':
        write_fixture(argv[1])
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(11)
    lines = []
    inputs = []
    for h, w in SIZES:
        name = f'in_{h}x{w}.png'
        data.save_rgb(os.path.join(out, name), test_image(rng, h, w))
        inputs.append(name)
    for bits, scale, seed in CASES:
        model_name = f't_w{bits}_x{scale}.qsr'
        q = export.model_to_qsr(small_t_model(bits, scale, seed), RANK, LEVELS)
        qf.write_qsr(os.path.join(out, model_name), q)
        ref = reference.make_reference(qf.read_qsr(os.path.join(out, model_name)))
        for name in inputs:
            lr = data.load_rgb(os.path.join(out, name))
            for depth in LEVELS:
                expected = f'{model_name[:-4]}_{name[3:-4]}_d{depth}.png'
                data.save_rgb(os.path.join(out, expected), ref.run(lr, depth))
                lines.append(f'{model_name} {name} {depth} {expected}\n')
    with open(os.path.join(out, 'manifest.txt'), 'w') as f:
        f.writelines(lines)
    print(f'{len(lines)} cases in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
