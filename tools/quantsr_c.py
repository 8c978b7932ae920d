"""QuantSR-C (quantized EDSR-style SR network) in PyTorch, for training.

Parameter names follow the official QEDSR_Ours layout, so an official state_dict loads into
this module unchanged:

    conv_first.{weight,bias}
    body.N.conv{1,2}.{weight,bias,alpha,channel_threshold,init_state}
    body.N.conv{1,2}.ActOurs.{alpha,init_state,signed}
    body.N.learnable_shortcut
    conv_after_body.{weight,bias}
    upsample.{0,2}.{weight,bias}    (PixelShuffle modules at 1, 3)
    conv_last.{weight,bias}

Quantizers (QuantSR, NeurIPS 2023):
* RLQ: a learned per-input-channel shift `channel_threshold` is added to the activation before
  its quantizer (and is part of the quantized value, i.e. q = round((x + t) / a)).
* LSQ steps: one scalar step per activation quantizer and per weight tensor, initialised from
  the first training batch as 2 * mean|x| / sqrt(Qp); their gradient is scaled by
  1 / sqrt(numel * Qp).
* The activation range is signed if the first batch has a value below -1e-5, else unsigned.
* Forward uses hard rounding (torch.round, half-to-even); backward uses the derivative of a
  tanh soft rounding of the fractional part (the official round_pass).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

RGB_MEAN = (0.4488, 0.4371, 0.4040)
IMG_RANGE = 255.0
FP_BITS = 32

_TANH_HALF = math.tanh(0.5)


def quant_range(bits, signed):
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


def scale_grad(x, g):
    """Identity in the forward pass; multiplies the gradient by g."""
    return (x - x * g).detach() + x * g


def soft_round(x):
    """torch.round forward; gradient of tanh soft rounding of the fractional part backward."""
    floor = x.floor().detach()
    frac = x - floor
    soft = torch.tanh(frac - 0.5) / (2.0 * _TANH_HALF) + 0.5 + floor
    return (x.round() - soft).detach() + soft


class ActOurs(nn.Module):
    """LSQ activation quantizer with a first-batch choice of signed/unsigned range."""

    def __init__(self, bits):
        super().__init__()
        self.bits = bits
        self.alpha = nn.Parameter(torch.ones(1))
        self.register_buffer('init_state', torch.zeros(1))
        self.register_buffer('signed', torch.zeros(1))

    def forward(self, x):
        if self.training and self.init_state.item() == 0:
            with torch.no_grad():
                self.signed.fill_(1.0 if x.min().item() < -1e-5 else 0.0)
                _, qp = quant_range(self.bits, self.signed.item() == 1)
                self.alpha.copy_(2.0 * x.abs().mean() / math.sqrt(qp))
                self.init_state.fill_(1)
        qn, qp = quant_range(self.bits, self.signed.item() == 1)
        alpha = scale_grad(self.alpha, 1.0 / math.sqrt(x.numel() * qp))
        return soft_round((x / alpha).clamp(qn, qp)) * alpha


def quantize_weight(layer):
    """Fake-quantized weights of a layer with `weight`, LSQ step `alpha`, `bits_w` and
    `init_state` (step initialised from the weights on the first training call)."""
    qn, qp = quant_range(layer.bits_w, True)
    if layer.training and layer.init_state.item() == 0:
        with torch.no_grad():
            layer.alpha.copy_(2.0 * layer.weight.abs().mean() / math.sqrt(qp))
            layer.init_state.fill_(1)
    alpha = scale_grad(layer.alpha, 1.0 / math.sqrt(layer.weight.numel() * qp))
    return soft_round((layer.weight / alpha).clamp(qn, qp)) * alpha


class QConv2d(nn.Conv2d):
    """3x3 convolution with RLQ-shifted, LSQ-quantized input and LSQ-quantized weights."""

    def __init__(self, cin, cout, bits_w, bits_a):
        super().__init__(cin, cout, 3, 1, 1, bias=True)
        self.bits_w = bits_w
        self.alpha = nn.Parameter(torch.ones(1))
        self.register_buffer('init_state', torch.zeros(1))
        self.channel_threshold = nn.Parameter(torch.zeros(1, cin, 1, 1))
        self.ActOurs = ActOurs(bits_a)

    def forward(self, x):
        x = self.ActOurs(x + self.channel_threshold)
        return F.conv2d(x, quantize_weight(self), self.bias, 1, 1)


class ResBlock(nn.Module):
    """out = x * shortcut + conv2(relu(conv1(x))); a skipped block is out = x * shortcut."""

    def __init__(self, channels, bits_w, bits_a):
        super().__init__()
        if bits_w == FP_BITS:
            self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
            self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        else:
            self.conv1 = QConv2d(channels, channels, bits_w, bits_a)
            self.conv2 = QConv2d(channels, channels, bits_w, bits_a)
        self.learnable_shortcut = nn.Parameter(torch.ones(1))

    def forward(self, x, active=True):
        if not active:
            return x * self.learnable_shortcut
        return x * self.learnable_shortcut + self.conv2(F.relu(self.conv1(x)))


def upsample_layers(scale, channels):
    layers = []
    if scale in (2, 4):
        for _ in range(scale // 2):
            layers += [nn.Conv2d(channels, 4 * channels, 3, 1, 1), nn.PixelShuffle(2)]
    elif scale == 3:
        layers += [nn.Conv2d(channels, 9 * channels, 3, 1, 1), nn.PixelShuffle(3)]
    else:
        raise ValueError(f'scale {scale} is not supported (2, 3 or 4)')
    return nn.Sequential(*layers)


class QuantSRC(nn.Module):
    def __init__(self, scale=4, channels=64, blocks=16, bits_w=4, bits_a=4,
                 rgb_mean=RGB_MEAN, img_range=IMG_RANGE):
        super().__init__()
        if (bits_w == FP_BITS) != (bits_a == FP_BITS):
            raise ValueError('bits_w and bits_a must both be 32 (FP) or both be quantized')
        if bits_w != FP_BITS and bits_w not in (2, 3, 4):
            raise ValueError(f'unsupported weight bits {bits_w}')
        if bits_a != FP_BITS and bits_a not in (2, 3, 4):
            raise ValueError(f'unsupported activation bits {bits_a}')
        self.scale = scale
        self.channels = channels
        self.blocks = blocks
        self.bits_w = bits_w
        self.bits_a = bits_a
        self.img_range = img_range
        # not persistent: the official state_dict has no 'mean' entry
        self.register_buffer('mean', torch.tensor(rgb_mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.conv_first = nn.Conv2d(3, channels, 3, 1, 1)
        self.body = nn.ModuleList([ResBlock(channels, bits_w, bits_a) for _ in range(blocks)])
        self.conv_after_body = nn.Conv2d(channels, channels, 3, 1, 1)
        self.upsample = upsample_layers(scale, channels)
        self.conv_last = nn.Conv2d(channels, 3, 3, 1, 1)

    @property
    def quantized(self):
        return self.bits_w != FP_BITS

    def forward(self, x, active=None):
        """x: [N, 3, H, W] RGB in 0..1. `active`: set of block indices to run (None = all)."""
        x = (x - self.mean) * self.img_range
        f = self.conv_first(x)
        h = f
        for i, block in enumerate(self.body):
            h = block(h, active is None or i in active)
        r = self.conv_after_body(h) + f
        return self.conv_last(self.upsample(r)) / self.img_range + self.mean

    def load_official(self, state_dict):
        """Loads an official QEDSR_Ours state_dict (possibly wrapped in 'params'/'params_ema')."""
        for key in ('params_ema', 'params', 'state_dict'):
            if key in state_dict and isinstance(state_dict[key], dict):
                state_dict = state_dict[key]
                break
        state_dict = {k[7:] if k.startswith('module.') else k: v for k, v in state_dict.items()}
        self.load_state_dict(state_dict, strict=True)


def depth_levels(blocks):
    """DQA depth levels B, B//2+1, B//4+1 (deduplicated, strictly decreasing).

    The official test script keeps the blocks at rank positions 0..B//2 at the half level and
    0..B//4 at the quarter level, i.e. B//2+1 and B//4+1 blocks."""
    levels = []
    for d in (blocks, blocks // 2 + 1, blocks // 4 + 1):
        d = min(d, blocks)
        if not levels or d < levels[-1]:
            levels.append(d)
    return levels


def active_set(block_rank, depth):
    return set(int(b) for b in block_rank[:depth])
