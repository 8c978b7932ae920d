#!/usr/bin/python3
"""Reference inference of a .qsr model in PyTorch with true integer quantization.

    /usr/bin/python3 tools/reference.py MODEL.qsr IN.png OUT.png [--depth D]
    /usr/bin/python3 tools/reference.py MODEL.qsr --eval ../shared/datasets/eval/Set5 [--ssim]

It follows docs/model-format.md literally, in float32:

    x0  = (rgb - rgb_mean) * img_range,  rgb = u8 / 255
    quantized conv: q = clamp(round_half_even((x_c + t_c) / a), Qn, Qp)   (integers)
                    s = sum q * q_w  (exact: integer values in float32)
                    y = s * float32(a * a_w[o]) + bias_o
    skipped block:  h = h * shortcut
    output pixel:   floor(clamp(v, 0, 1) * 255 + 0.5)

--eval makes each HR image's LR with the MATLAB-compatible bicubic (tools/data.py) and prints
the Y-PSNR (and SSIM) at every depth level of the model, with `scale` pixels of border cropped.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import qsr_format as qf  # noqa: E402


class ReferenceModel:
    def __init__(self, model):
        self.m = model
        self.t = {name: torch.from_numpy(np.array(t.array)) for name, t in model.tensors.items()}

    def conv(self, name, x):
        return F.conv2d(x, self.t[name + '.weight'].float(), self.t[name + '.bias'], 1, 1)

    def qconv(self, name, x):
        t = self.t
        a = t[name + '.act_step'].float()[0]
        shift = t[name + '.act_shift'].float().view(1, -1, 1, 1)
        bits = self.m.bits_a
        if int(t[name + '.act_signed'][0]) == 1:
            qn, qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        else:
            qn, qp = 0, 2 ** bits - 1
        q = torch.clamp(torch.round((x + shift) / a), qn, qp)
        s = F.conv2d(q, t[name + '.weight'].float(), None, 1, 1)
        a_w = t[name + '.weight_step'].float()
        scale = (a * a_w).view(1, -1, 1, 1)  # float32 product first, as the runtime
        return s * scale + t[name + '.bias'].view(1, -1, 1, 1)

    def block_conv(self, name, x):
        if self.m.quantized:
            return self.qconv(name, x)
        return self.conv(name, x)

    def kept_blocks(self, depth):
        if depth not in self.m.depth_levels:
            raise SystemExit(f'depth {depth} is not a depth level of this model '
                             f'({self.m.depth_levels})')
        return set(self.m.block_rank[:depth])

    def network_input(self, lr_u8):
        """(rgb - mean) * img_range of a uint8 HxWx3 image, and the mean, as [1, 3, H, W]."""
        rgb = torch.from_numpy(np.ascontiguousarray(lr_u8.transpose(2, 0, 1))).float()[None] / 255.0
        mean = torch.tensor(self.m.rgb_mean, dtype=torch.float32).view(1, 3, 1, 1)
        return (rgb - mean) * torch.tensor(self.m.img_range, dtype=torch.float32), mean

    @torch.no_grad()
    def run(self, lr_u8, depth=None):
        """uint8 HxWx3 LR -> uint8 (sH)x(sW)x3 SR."""
        m = self.m
        kept = self.kept_blocks(depth if depth is not None else m.blocks)
        x, mean = self.network_input(lr_u8)
        f = self.conv('conv_first', x)
        h = f
        for i in range(m.blocks):
            sc = self.t[f'body.{i}.shortcut'][0]
            if i in kept:
                u = self.block_conv(f'body.{i}.conv1', h)
                u = self.block_conv(f'body.{i}.conv2', torch.relu(u))
                h = h * sc + u
            else:
                h = h * sc
        r = self.conv('conv_after_body', h) + f
        for k, stage in enumerate(qf.upsample_stages(m.scale)):
            r = F.pixel_shuffle(self.conv(f'upsample.{k}', r), stage)
        out = self.conv('conv_last', r) / torch.tensor(m.img_range, dtype=torch.float32) + mean
        out = torch.floor(torch.clamp(out, 0, 1) * 255.0 + 0.5)
        return out[0].permute(1, 2, 0).to(torch.uint8).numpy()


def quant_codes(x, step, shift, signed, bits):
    """clamp(round_half_even((x + shift) / step), Qn, Qp) as float32 integers."""
    if signed:
        qn, qp = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        qn, qp = 0, 2 ** bits - 1
    return torch.clamp(torch.round((x + shift) / step), qn, qp)


class ReferenceModelT(ReferenceModel):
    """QuantSR-T (arch 2) as docs/model-format.md defines it; tokens are [N, H*W, E]."""

    def layer_norm(self, name, x):
        return F.layer_norm(x, (x.shape[-1],), self.t[name + '.weight'], self.t[name + '.bias'], 1e-5)

    def act(self, name, x, shift_shape=(-1,)):
        t = self.t
        q = quant_codes(x, t[name + '.act_step'][0], t[name + '.act_shift'].view(*shift_shape),
                        int(t[name + '.act_signed'][0]) == 1, self.m.bits_a)
        return q, t[name + '.act_step'][0]

    def linear(self, name, x):
        t = self.t
        if not self.m.quantized:
            return F.linear(x, t[name + '.weight'], t[name + '.bias'])
        q, a = self.act(name, x)
        scale = a * t[name + '.weight_step'].float()
        return F.linear(q, t[name + '.weight'].float()) * scale + t[name + '.bias']

    def group_conv(self, name, tokens, h, w):
        img = tokens.transpose(1, 2).reshape(tokens.shape[0], -1, h, w)
        out = self.block_conv(name, img)
        return out.flatten(2).transpose(1, 2)

    def attention(self, i, x, h, w, shift):
        m, t = self.m, self.t
        e, win, heads = m.channels, m.window, m.heads
        d = e // heads
        n_tok = win * win
        p = f'layer.{i}.'
        grid = x.view(1, h, w, e)
        if shift:
            grid = torch.roll(grid, shifts=(-shift, -shift), dims=(1, 2))
        wins = grid.view(h // win, win, w // win, win, e).permute(0, 2, 1, 3, 4).reshape(-1, n_tok, e)
        qkv = self.linear(p + 'qkv', wins).view(-1, n_tok, 3, heads, d).permute(2, 0, 3, 1, 4)
        qh, kh, vh = qkv[0] / torch.tensor(float(d) ** 0.5, dtype=torch.float32), qkv[1], qkv[2]
        if m.quantized:
            qh, aq = self.act(p + 'attn.q', qh, (heads, 1, d))
            kh, ak = self.act(p + 'attn.k', kh, (heads, 1, d))
            vh, av = self.act(p + 'attn.v', vh, (heads, 1, d))
            scores = (qh @ kh.transpose(-2, -1)) * (aq * ak)
        else:
            scores = qh @ kh.transpose(-2, -1) * 1.0
        scores = scores + self.position_bias(p, win, heads).unsqueeze(0)
        if shift:
            scores = scores + shift_mask(h, w, win, shift).unsqueeze(1)
        prob = scores.softmax(dim=-1)
        if m.quantized:
            ap = t[p + 'attn.p.act_step'][0]
            qp = quant_codes(prob, ap, 0.0, False, m.bits_a)
            out = (qp @ vh) * (ap * av)
        else:
            out = prob @ vh
        out = out.transpose(1, 2).reshape(-1, n_tok, e)
        out = self.linear(p + 'proj', out)
        grid = out.view(h // win, w // win, win, win, e).permute(0, 2, 1, 3, 4).reshape(1, h, w, e)
        if shift:
            grid = torch.roll(grid, shifts=(shift, shift), dims=(1, 2))
        return grid.reshape(1, h * w, e)

    def position_bias(self, p, win, heads):
        coords = torch.stack(torch.meshgrid(torch.arange(win), torch.arange(win), indexing='ij')).flatten(1)
        rel = coords[:, :, None] - coords[:, None, :] + (win - 1)
        idx = rel[0] * (2 * win - 1) + rel[1]
        table = self.t[p + 'attn.rel_bias']
        return table[idx.view(-1)].view(win * win, win * win, heads).permute(2, 0, 1)

    @torch.no_grad()
    def run(self, lr_u8, depth=None):
        m = self.m
        kept = self.kept_blocks(depth if depth is not None else m.blocks)
        x, mean = self.network_input(lr_u8)
        h0, w0 = x.shape[2], x.shape[3]
        x = F.pad(x, (0, -w0 % m.window, 0, -h0 % m.window), mode='reflect')
        h, w = x.shape[2], x.shape[3]
        f = self.conv('conv_first', x)
        tok = self.layer_norm('patch_norm', f.flatten(2).transpose(1, 2))
        i = 0
        for g, depth_g in enumerate(m.group_depths):
            u = tok
            for l in range(depth_g):
                sc = self.t[f'layer.{i}.shortcut'][0]
                if i in kept:
                    shift = m.window // 2 if l % 2 else 0
                    a = self.attention(i, self.layer_norm(f'layer.{i}.norm1', tok), h, w, shift)
                    tok = tok * sc + a
                    y = self.linear(f'layer.{i}.fc1', self.layer_norm(f'layer.{i}.norm2', tok))
                    tok = tok + self.linear(f'layer.{i}.fc2', F.gelu(y))
                else:
                    tok = tok * sc
                i += 1
            tok = self.group_conv(f'group.{g}.conv', tok, h, w) + u
        tok = self.layer_norm('norm', tok)
        r = self.conv('conv_after_body', tok.transpose(1, 2).reshape(1, m.channels, h, w)) + f
        out = F.pixel_shuffle(self.conv('upsample.0', r), m.scale)
        out = out / torch.tensor(m.img_range, dtype=torch.float32) + mean
        out = out[:, :, :h0 * m.scale, :w0 * m.scale]
        out = torch.floor(torch.clamp(out, 0, 1) * 255.0 + 0.5)
        return out[0].permute(1, 2, 0).to(torch.uint8).numpy()


def shift_mask(h, w, win, shift):
    """[nW, N, N]: -100 between tokens of different regions of the rolled grid, else 0."""
    label = torch.zeros(h, w)
    cnt = 0
    for hs in (slice(0, h - win), slice(h - win, h - shift), slice(h - shift, h)):
        for ws in (slice(0, w - win), slice(w - win, w - shift), slice(w - shift, w)):
            label[hs, ws] = cnt
            cnt += 1
    wl = label.view(h // win, win, w // win, win).permute(0, 2, 1, 3).reshape(-1, win * win)
    diff = wl.unsqueeze(1) - wl.unsqueeze(2)
    return torch.where(diff != 0, torch.tensor(-100.0), torch.tensor(0.0))


def make_reference(model):
    """The reference of a QsrModel, by architecture."""
    if model.arch == qf.ARCH_QUANTSR_T:
        return ReferenceModelT(model)
    return ReferenceModel(model)


def evaluate_folder(ref, folder, with_ssim=False):
    items = data.load_eval_set(folder, ref.m.scale)
    rows = []
    for depth in ref.m.depth_levels:
        ps, ss = [], []
        for _, hr, lr in items:
            sr = ref.run(lr, depth)
            ps.append(data.psnr_y(sr, hr, ref.m.scale))
            if with_ssim:
                ss.append(data.ssim_y(sr, hr, ref.m.scale))
        rows.append((depth, float(np.mean(ps)), float(np.mean(ss)) if ss else None))
    bic_p, bic_s = [], []
    for _, hr, lr in items:
        up = data.to_uint8(data.imresize(lr, float(ref.m.scale)))
        bic_p.append(data.psnr_y(up, hr, ref.m.scale))
        if with_ssim:
            bic_s.append(data.ssim_y(up, hr, ref.m.scale))
    bicubic = (float(np.mean(bic_p)), float(np.mean(bic_s)) if bic_s else None)
    return rows, bicubic


def main(argv=None):
    p = argparse.ArgumentParser(description='Integer-exact PyTorch reference of a .qsr model')
    p.add_argument('model')
    p.add_argument('input', nargs='?', help='LR input image')
    p.add_argument('output', nargs='?', help='SR output PNG')
    p.add_argument('--depth', type=int, help='DQA depth level (default: full depth)')
    p.add_argument('--eval', metavar='DIR', help='HR folder to measure Y-PSNR on (every depth)')
    p.add_argument('--ssim', action='store_true', help='with --eval: also SSIM')
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model = qf.read_qsr(args.model)
    except (OSError, qf.QsrFormatError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    ref = make_reference(model)
    if args.eval:
        rows, (bp, bs) = evaluate_folder(ref, args.eval, args.ssim)
        name = os.path.basename(os.path.normpath(args.eval))
        for depth, ps, ss in rows:
            extra = f'  SSIM {ss:.4f}' if ss is not None else ''
            print(f'{name} x{model.scale} depth {depth}: Y-PSNR {ps:.3f} dB{extra}')
        extra = f'  SSIM {bs:.4f}' if bs is not None else ''
        print(f'{name} x{model.scale} bicubic: Y-PSNR {bp:.3f} dB{extra}')
        return 0
    if not (args.input and args.output):
        p.error('give IN.png and OUT.png, or --eval DIR')
    lr = data.load_rgb(args.input)
    sr = ref.run(lr, args.depth)
    data.save_rgb(args.output, sr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
