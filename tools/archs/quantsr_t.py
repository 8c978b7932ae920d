"""QuantSR-T: the SwinIR-light transformer with RLQ-quantized linear layers and attention.

Structure (SwinIR-light, upsampler 'pixelshuffledirect', patch_norm on):

    x0 = (rgb - mean) * img_range, reflect-padded on the right/bottom to a multiple of the window
    f  = conv_first(x0)                               FP 3x3, 3 -> E
    t  = patch_norm(tokens(f))                        LayerNorm over E
    for each group g (RSTB):
        u = t
        for each layer l of g (Swin layer, shift = window/2 on odd layers, with the mask):
            t = t * shortcut + proj(attn(norm1(t)))   windowed multi-head self-attention
            t = t + fc2(gelu(fc1(norm2(t))))          MLP, ratio 2
        t = tokens(conv(image(t))) + u                quantized 3x3 conv, E -> E
    t  = norm(t)
    r  = conv_after_body(image(t)) + f                FP 3x3
    out = pixel_shuffle(upsample(r)) / img_range + mean, cropped to the unpadded size

Quantized (RLQ: learned per-input-channel shift + LSQ step; weights per-tensor LSQ step):
qkv, proj, fc1, fc2 and the group convs; inside attention, Q (after the 1/sqrt(d) scale) and K
are quantized (per-channel shift) before Q K^T, and the softmax output (unsigned, no shift) and
V (per-channel shift) before attn V, so both products are integer x integer. Floating point:
LayerNorm, softmax, GELU, biases, relative position bias and mask, head, tail, upsampler.

DQA: the unit of depth is a Swin layer ("block", numbered across groups in order); a skipped
layer reduces to t = t * shortcut (its MLP residual is skipped with it). Groups always run their
conv and residual.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from quantsr_c import FP_BITS, RGB_MEAN, ActOurs, QConv2d, quant_range, quantize_weight


class QLinear(nn.Linear):
    """Linear layer with RLQ-shifted, LSQ-quantized input and LSQ-quantized weights."""

    def __init__(self, cin, cout, bits_w, bits_a):
        super().__init__(cin, cout, bias=True)
        self.bits_w = bits_w
        self.alpha = nn.Parameter(torch.ones(1))
        self.register_buffer('init_state', torch.zeros(1))
        self.channel_threshold = nn.Parameter(torch.zeros(cin))
        self.ActOurs = ActOurs(bits_a)

    def forward(self, x):
        x = self.ActOurs(x + self.channel_threshold)
        return F.linear(x, quantize_weight(self), self.bias)


def linear(cin, cout, bits):
    return nn.Linear(cin, cout) if bits == FP_BITS else QLinear(cin, cout, bits, bits)


def conv3x3(channels, bits):
    if bits == FP_BITS:
        return nn.Conv2d(channels, channels, 3, 1, 1)
    return QConv2d(channels, channels, bits, bits)


class ShiftedAct(nn.Module):
    """RLQ activation quantizer with a per-channel shift over the last dimension."""

    def __init__(self, heads, head_dim, bits):
        super().__init__()
        self.channel_threshold = nn.Parameter(torch.zeros(heads, 1, head_dim))
        self.ActOurs = ActOurs(bits)

    def forward(self, x):  # [windows, heads, tokens, head_dim]
        return self.ActOurs(x + self.channel_threshold)


def relative_position_index(window):
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij'))
    flat = coords.flatten(1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0) + (window - 1)
    return rel[:, :, 0] * (2 * window - 1) + rel[:, :, 1]  # [N, N]


class WindowAttention(nn.Module):
    def __init__(self, dim, window, heads, bits):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.window = window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer('relative_position_index', relative_position_index(window),
                             persistent=False)
        self.qkv = linear(dim, 3 * dim, bits)
        self.proj = linear(dim, dim, bits)
        self.quantized = bits != FP_BITS
        if self.quantized:
            self.q_quant = ShiftedAct(heads, self.head_dim, bits)
            self.k_quant = ShiftedAct(heads, self.head_dim, bits)
            self.v_quant = ShiftedAct(heads, self.head_dim, bits)
            self.attn_quant = ActOurs(bits)

    def position_bias(self):
        n = self.window * self.window
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(n, n, self.heads).permute(2, 0, 1)  # [heads, N, N]

    def forward(self, x, mask=None):  # x: [windows, N, C]
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        if self.quantized:
            q, k, v = self.q_quant(q), self.k_quant(k), self.v_quant(v)
        attn = q @ k.transpose(-2, -1) + self.position_bias().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        if self.quantized:
            attn = self.attn_quant(attn)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


def window_partition(x, w):  # [B, H, W, C] -> [B * nW, w * w, C]
    b, h, wd, c = x.shape
    x = x.view(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, c)


def window_reverse(windows, w, h, wd):  # inverse of window_partition
    b = windows.shape[0] // ((h // w) * (wd // w))
    x = windows.view(b, h // w, wd // w, w, w, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, wd, -1)


def shift_mask(h, wd, window, shift, device):
    """SwinIR's attention mask for shifted windows: -100 between tokens of different regions."""
    img = torch.zeros(1, h, wd, 1, device=device)
    cnt = 0
    for hs in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for ws in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            img[:, hs, ws, :] = cnt
            cnt += 1
    win = window_partition(img, window).squeeze(-1)  # [nW, N]
    mask = win.unsqueeze(1) - win.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class SwinLayer(nn.Module):
    def __init__(self, dim, heads, window, shift, mlp_ratio, bits):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads, bits)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.fc1 = linear(dim, hidden, bits)
        self.fc2 = linear(hidden, dim, bits)
        self.learnable_shortcut = nn.Parameter(torch.ones(1))

    def forward(self, x, size, mask, active=True):  # x: [B, H*W, C]
        if not active:
            return x * self.learnable_shortcut
        h, wd = size
        b, _, c = x.shape
        y = self.norm1(x).view(b, h, wd, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = self.attn(window_partition(y, self.window), mask if self.shift else None)
        y = window_reverse(y, self.window, h, wd)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x * self.learnable_shortcut + y.reshape(b, h * wd, c)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class RSTB(nn.Module):
    def __init__(self, dim, depth, heads, window, mlp_ratio, bits):
        super().__init__()
        self.blocks = nn.ModuleList([
            SwinLayer(dim, heads, window, 0 if i % 2 == 0 else window // 2, mlp_ratio, bits)
            for i in range(depth)])
        self.conv = conv3x3(dim, bits)


class QuantSRT(nn.Module):
    arch = 't'

    def __init__(self, scale=4, embed_dim=32, depths=(4, 4), heads=4, window=8, mlp_ratio=2.0,
                 bits_w=4, bits_a=4, rgb_mean=RGB_MEAN, img_range=1.0):
        super().__init__()
        if bits_w != bits_a:
            raise ValueError('QuantSR-T uses the same bits for weights and activations')
        if bits_w != FP_BITS and bits_w not in (2, 3, 4):
            raise ValueError(f'unsupported bits {bits_w}')
        if embed_dim % heads:
            raise ValueError(f'embed_dim {embed_dim} is not a multiple of heads {heads}')
        if scale not in (2, 3, 4):
            raise ValueError(f'scale {scale} is not supported (2, 3 or 4)')
        self.scale, self.embed_dim, self.depths = scale, embed_dim, tuple(depths)
        self.heads, self.window, self.mlp_ratio = heads, window, mlp_ratio
        self.bits_w, self.bits_a, self.img_range = bits_w, bits_a, img_range
        self.channels = embed_dim
        self.blocks = sum(self.depths)
        self.register_buffer('mean', torch.tensor(rgb_mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.conv_first = nn.Conv2d(3, embed_dim, 3, 1, 1)
        self.patch_norm = nn.LayerNorm(embed_dim)
        self.layers = nn.ModuleList([RSTB(embed_dim, d, heads, window, mlp_ratio, bits_w)
                                     for d in self.depths])
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, 1, 1)
        self.upsample = nn.Sequential(nn.Conv2d(embed_dim, 3 * scale * scale, 3, 1, 1),
                                      nn.PixelShuffle(scale))
        self._masks = {}
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    @property
    def quantized(self):
        return self.bits_w != FP_BITS

    def config(self):
        return {'arch': 't', 'scale': self.scale, 'embed_dim': self.embed_dim,
                'depths': list(self.depths), 'heads': self.heads, 'window': self.window,
                'mlp_ratio': self.mlp_ratio, 'bits_w': self.bits_w, 'bits_a': self.bits_a}

    def mask(self, h, wd, device):
        key = (h, wd, str(device))
        if key not in self._masks:
            self._masks[key] = shift_mask(h, wd, self.window, self.window // 2, device)
        return self._masks[key]

    def forward(self, x, active=None):
        """x: [N, 3, H, W] RGB in 0..1. `active`: set of layer indices to run (None = all)."""
        n, _, h0, w0 = x.shape
        x = (x - self.mean) * self.img_range
        ph, pw = -h0 % self.window, -w0 % self.window
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode='reflect')
        h, wd = x.shape[2], x.shape[3]
        f = self.conv_first(x)
        t = self.patch_norm(f.flatten(2).transpose(1, 2))
        mask = self.mask(h, wd, x.device)
        idx = 0
        for group in self.layers:
            u = t
            for layer in group.blocks:
                t = layer(t, (h, wd), mask, active is None or idx in active)
                idx += 1
            img = t.transpose(1, 2).reshape(n, self.embed_dim, h, wd)
            t = group.conv(img).flatten(2).transpose(1, 2) + u
        t = self.norm(t)
        r = self.conv_after_body(t.transpose(1, 2).reshape(n, self.embed_dim, h, wd)) + f
        out = self.upsample(r) / self.img_range + self.mean
        return out[:, :, :h0 * self.scale, :w0 * self.scale]
