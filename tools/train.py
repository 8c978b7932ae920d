#!/usr/bin/python3
"""Train QuantSR-C on CPU (L1 loss, Adam, cosine LR, DQA joint depth training).

Example (the default x4 4-bit model):
    /usr/bin/python3 tools/train.py --data ../shared/datasets/train --scale 4 --bits 4 \
        --channels 32 --blocks 8 --val ../shared/datasets/eval/Set5 --out .train/x4_w4a4

DQA (dynamic quantized depth): the shared weights are trained jointly at full depth and at
the B//2+1 and B//4+1 most important blocks (sum of the three L1 losses, 1/3 each, as the
official recipe). The first `--dqa-start` fraction of the steps trains full depth only; at that
point the block importance ranking is measured once and then kept fixed, so the nested subsets
the weights are trained for are exactly the ones the exported model uses.

Block importance rule: on a fixed validation batch of training patches, the L1 loss of the
full-depth network is compared with the loss when block i alone is skipped (out = x * shortcut);
blocks are ranked by that loss increase, largest first (ties: lower index first).
"""

import argparse
import copy
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import archs  # noqa: E402
from quantsr_c import active_set, depth_levels  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', help='folder of training images (searched recursively)')
    p.add_argument('--scale', type=int, default=4, choices=(2, 3, 4))
    p.add_argument('--bits', type=int, default=4, choices=(2, 3, 4, 32),
                   help='weight and activation bits of the body (32 = floating point)')
    p.add_argument('--arch', choices=sorted(archs.ARCHS), default='c',
                   help='c: QuantSR-C (EDSR-style); t: QuantSR-T (SwinIR-light)')
    p.add_argument('--channels', type=int, default=32, help='QuantSR-C width')
    p.add_argument('--blocks', type=int, default=8, help='QuantSR-C residual blocks')
    p.add_argument('--embed-dim', type=int, default=48, help='QuantSR-T width')
    p.add_argument('--depths', default='4,4', help='QuantSR-T Swin layers per group, e.g. 4,4')
    p.add_argument('--heads', type=int, default=4, help='QuantSR-T attention heads')
    p.add_argument('--window', type=int, default=8, help='QuantSR-T window edge')
    p.add_argument('--steps', type=int, default=6000)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--patch', type=int, default=24, help='LR patch size')
    p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--time-budget', type=float,
                   help='minutes of training; the schedule follows elapsed time when that is '
                        'further along than the step count, and the run ends when it is spent')
    p.add_argument('--lr-min', type=float, default=1e-6)
    p.add_argument('--warmup', type=int, default=100, help='linear LR warm-up steps')
    p.add_argument('--schedule', choices=('cosine', 'step'), default='cosine')
    p.add_argument('--ema', type=float, default=0.0,
                   help='decay of an exponential moving average of the weights (e.g. 0.999; '
                        '0 = off); when on, validation and export use the averaged weights')
    p.add_argument('--dqa', type=int, default=1, help='1: joint DQA depth training, 0: full depth only')
    p.add_argument('--dqa-start', type=float, default=0.1,
                   help='fraction of the steps trained at full depth before the ranking is fixed')
    p.add_argument('--fp-init', help='checkpoint (FP or quantized) to initialise the weights from')
    p.add_argument('--val', help='validation folder (e.g. Set5)')
    p.add_argument('--val-every', type=int, default=1000)
    p.add_argument('--ckpt-every', type=int, default=250)
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--out', default='.train/run', help='output folder for checkpoints and logs')
    p.add_argument('--cache', help='LR cache folder (default: <out>/../cache)')
    p.add_argument('--resume', action='store_true', help='continue from <out>/last.pt')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu',
                   help="torch device: cpu (default), cuda, or auto (cuda when available)")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--max-images', type=int, help='use only the first N training images')
    p.add_argument('--smoke', action='store_true',
                   help='a few steps of a tiny model on synthetic images (CI check, < 30 s)')
    return p.parse_args(argv)


class Logger:
    def __init__(self, path):
        self.file = open(path, 'a', buffering=1) if path else None

    def __call__(self, msg):
        line = f'[{time.strftime("%H:%M:%S")}] {msg}'
        print(line, flush=True)
        if self.file:
            self.file.write(line + '\n')


def progress(args, step, seconds):
    """Fraction of the run done: by steps, or by wall-clock time when --time-budget is set
    (whichever is further), so the LR schedule always completes on a busy shared machine."""
    p = step / args.steps
    if args.time_budget:
        p = max(p, seconds / (60.0 * args.time_budget))
    return min(1.0, p)


def learning_rate(args, step, prog):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.schedule == 'step':
        # halve at 50%, 75% and 90% of the run
        factor = 1.0
        for frac in (0.5, 0.75, 0.9):
            if prog >= frac:
                factor *= 0.5
        return args.lr * factor
    t = prog
    return args.lr_min + 0.5 * (args.lr - args.lr_min) * (1.0 + math.cos(math.pi * min(1.0, t)))


def model_config(args):
    if args.arch == 't':
        try:
            depths = [int(d) for d in args.depths.split(',')]
        except ValueError:
            raise SystemExit(f'train.py: --depths takes layer counts like 4,4, not {args.depths!r}')
        return {'arch': 't', 'scale': args.scale, 'embed_dim': args.embed_dim, 'depths': depths,
                'heads': args.heads, 'window': args.window, 'mlp_ratio': 2.0,
                'bits_w': args.bits, 'bits_a': args.bits}
    return {'arch': 'c', 'scale': args.scale, 'channels': args.channels, 'blocks': args.blocks,
            'bits_w': args.bits, 'bits_a': args.bits}


def build_model(args):
    return archs.build(model_config(args))


def load_init(model, path, log):
    """Copies every tensor of matching name and shape from a checkpoint (FP or quantized)."""
    ckpt = torch.load(path, map_location='cpu')
    src = ckpt.get('model', ckpt)
    own = model.state_dict()
    copied = 0
    for k, v in src.items():
        if k in own and own[k].shape == v.shape:
            own[k] = v.clone()
            copied += 1
    model.load_state_dict(own)
    log(f'initialised {copied}/{len(own)} tensors from {path}')
    return ckpt.get('block_rank') if ckpt.get('rank_fixed') else None


def model_device(model):
    return next(model.parameters()).device


def importance_ranking(model, lr, hr):
    """Block indices sorted by the L1 loss increase when that block alone is skipped."""
    lr, hr = lr.to(model_device(model)), hr.to(model_device(model))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        base = torch.mean(torch.abs(model(lr) - hr)).item()
        increase = []
        for i in range(model.blocks):
            keep = set(range(model.blocks)) - {i}
            loss = torch.mean(torch.abs(model(lr, keep) - hr)).item()
            increase.append(loss - base)
    model.train(was_training)
    order = sorted(range(model.blocks), key=lambda i: (-increase[i], i))
    return order, increase


def to_tensor(img):
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div(255.0)[None]


def evaluate(model, items, scale, levels, rank, with_ssim=False):
    """Mean Y-PSNR (and SSIM) over `items` at every depth level, fake-quant float model."""
    was_training = model.training
    model.eval()
    results = []
    with torch.no_grad():
        for depth in levels:
            active = None if depth == model.blocks else active_set(rank, depth)
            ps, ss = [], []
            for _, hr, lr in items:
                out = model(to_tensor(lr).to(model_device(model)), active)[0].clamp(0, 1)
                sr = torch.floor(out * 255.0 + 0.5).byte().permute(1, 2, 0).cpu().numpy()
                ps.append(data.psnr_y(sr, hr, scale))
                if with_ssim:
                    ss.append(data.ssim_y(sr, hr, scale))
            results.append((depth, float(np.mean(ps)), float(np.mean(ss)) if ss else None))
    model.train(was_training)
    return results


def ema_update(ema, model, decay, step):
    """ema = d * ema + (1 - d) * weights, with d ramped up as (1 + step) / (10 + step) so
    the average of a fresh run is not dominated by its random initialisation. Buffers
    (quantizer init flags, signedness) are copied."""
    d = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for avg, p in zip(ema.parameters(), model.parameters()):
            avg.mul_(d).add_(p, alpha=1.0 - d)
        for avg, b in zip(ema.buffers(), model.buffers()):
            avg.copy_(b)


def state_cpu(model):
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def save_checkpoint(path, model, opt, step, rank, rank_fixed, args, sampler, best, ema=None):
    state = {
        'model': state_cpu(model),
        'optimizer': opt.state_dict(),
        'step': step,
        'block_rank': rank,
        'rank_fixed': rank_fixed,
        'args': vars(args),
        'config': archs.config_of(model),
        'torch_rng': torch.get_rng_state(),
        'sampler_rng': sampler.rng.bit_generator.state,
        'best': best,
        'cpu_seconds': time.process_time() + args._cpu_before,
        'train_seconds': args._seconds_now,
    }
    if ema is not None:
        state['model_ema'] = state_cpu(ema)
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


def make_smoke_data(folder):
    rng = np.random.default_rng(0)
    for sub in ('train', 'val'):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        for k in range(2):
            yy, xx = np.mgrid[0:48, 0:48]
            img = np.stack([(np.sin(xx / (3 + k)) + 1) * 120, (np.cos(yy / 4) + 1) * 120,
                            rng.uniform(0, 255, (48, 48))], axis=2)
            data.save_rgb(os.path.join(folder, sub, f'img{k}.png'), img.astype(np.uint8))


def pick_device(name):
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('train.py: --device cuda, but this PyTorch has no usable CUDA device')
    return torch.device(name)


def train(args):
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = Logger(os.path.join(args.out, 'train.log'))
    log('args: ' + ' '.join(sys.argv[1:]))
    cache = args.cache or os.path.join(os.path.dirname(os.path.abspath(args.out)), 'cache')
    sampler = data.PatchSampler(args.data, args.scale, cache, seed=args.seed,
                                max_images=args.max_images, log=log)
    log(f'{len(sampler)} training images')
    val_items = data.load_eval_set(args.val, args.scale) if args.val else None

    model = build_model(args).to(device)
    nparams = sum(p.numel() for p in model.parameters())
    log(f'model: {model_config(args)} params={nparams} on {device}')
    levels = depth_levels(model.blocks)
    rank = list(range(model.blocks))
    rank_fixed = False
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999))
    step = 0
    best = None
    args._cpu_before = 0.0
    args._seconds_before = 0.0
    last = os.path.join(args.out, 'last.pt')
    resumed = None  # the checkpoint continued from, if any
    if args.resume and os.path.exists(last):
        ckpt = resumed = torch.load(last, map_location=device)
        model.load_state_dict(ckpt['model'])
        opt.load_state_dict(ckpt['optimizer'])
        step = ckpt['step']
        rank = ckpt['block_rank']
        rank_fixed = ckpt.get('rank_fixed', step >= args.dqa_start * args.steps)
        best = ckpt.get('best')
        torch.set_rng_state(ckpt['torch_rng'])
        sampler.rng.bit_generator.state = ckpt['sampler_rng']
        args._cpu_before = ckpt.get('cpu_seconds', 0.0)
        args._seconds_before = ckpt.get('train_seconds', 0.0)
        log(f'resumed at step {step} (rank {rank})')
    elif args.fp_init:
        init_rank = load_init(model, args.fp_init, log)
        if init_rank is not None and args.dqa_start <= 0:
            rank = list(init_rank)
            rank_fixed = True

    # a fixed batch of training patches (own seed) for the importance ranking
    rank_sampler = data.PatchSampler(args.data, args.scale, cache, seed=args.seed + 1000,
                                     max_images=args.max_images, log=log)
    rank_patch = min(args.patch * 2, rank_sampler.max_patch)
    rank_lr, rank_hr = (torch.from_numpy(a) for a in rank_sampler.sample(max(4, args.batch), rank_patch))

    model.train()
    if model.quantized and step == 0:
        # LSQ steps and signedness are initialised from the first training batch (at full
        # depth), before the importance ranking may run the network in eval mode
        with torch.no_grad():
            model(torch.from_numpy(sampler.sample(args.batch, args.patch)[0]).to(device))
    ema = None
    if args.ema > 0:
        # made after the quantizer initialisation so the average starts from valid steps
        ema = copy.deepcopy(model)
        if resumed is not None and 'model_ema' in resumed:
            ema.load_state_dict(resumed['model_ema'])
        ema.eval()
        log(f'weight average: EMA decay {args.ema} (validation and export use it)')
    judged = ema if ema is not None else model
    dqa_step = int(args.dqa_start * args.steps)
    t_start = time.time()
    steps_timed = 0
    loss_acc, loss_n = 0.0, 0
    while progress(args, step, args._seconds_before + time.time() - t_start) < 1.0:
        seconds = args._seconds_before + time.time() - t_start
        if args.dqa and not rank_fixed and step >= dqa_step and len(levels) > 1:
            rank, inc = importance_ranking(model, rank_lr, rank_hr)
            rank_fixed = True
            log('block importance (L1 increase when skipped): ' +
                ' '.join(f'{i}:{v:.5f}' for i, v in enumerate(inc)))
            log(f'block_rank fixed: {rank}')
        lr_now = learning_rate(args, step, progress(args, step, seconds))
        for g in opt.param_groups:
            g['lr'] = lr_now
        lr_b, hr_b = (torch.from_numpy(a).to(device, non_blocking=True)
                      for a in sampler.sample(args.batch, args.patch))
        opt.zero_grad()
        use_dqa = args.dqa and rank_fixed and len(levels) > 1
        if use_dqa:
            total = 0.0
            for depth in levels:
                active = None if depth == model.blocks else active_set(rank, depth)
                loss = torch.mean(torch.abs(model(lr_b, active) - hr_b)) / len(levels)
                loss.backward()  # per-level backward keeps only one graph in memory
                total += loss.item()
            loss_val = total  # mean of the level losses
        else:
            loss = torch.mean(torch.abs(model(lr_b) - hr_b))
            loss.backward()
            loss_val = loss.item()
        if not math.isfinite(loss_val):
            log(f'non-finite loss at step {step}; stopping')
            return 1
        opt.step()
        if ema is not None:
            ema_update(ema, model, args.ema, step)
        step += 1
        steps_timed += 1
        loss_acc += loss_val
        loss_n += 1
        seconds = args._seconds_before + time.time() - t_start
        done = progress(args, step, seconds) >= 1.0
        if step % args.log_every == 0 or done:
            elapsed = time.time() - t_start
            sps = steps_timed / max(elapsed, 1e-9)
            eta = (args.steps - step) / max(sps, 1e-9)
            if args.time_budget:
                eta = min(eta, max(0.0, 60.0 * args.time_budget - seconds))
            log(f'step {step}/{args.steps} loss {loss_acc / loss_n:.5f} lr {lr_now:.2e} '
                f'{sps:.3f} steps/s ({1 / max(sps, 1e-9):.2f} s/step) ETA {eta / 60:.1f} min'
                f'{" dqa" if use_dqa else ""}')
            loss_acc, loss_n = 0.0, 0
        if val_items and (step % args.val_every == 0 or done):
            res = evaluate(judged, val_items, args.scale, levels if rank_fixed else levels[:1], rank)
            log('val Y-PSNR ' + '  '.join(f'D={d}: {p:.3f}' for d, p, _ in res))
            if best is None or res[0][1] > best:
                best = res[0][1]
        if step % args.ckpt_every == 0 or done:
            args._seconds_now = args._seconds_before + time.time() - t_start
            save_checkpoint(last, model, opt, step, rank, rank_fixed, args, sampler, best, ema)
    final = os.path.join(args.out, 'final.pt')
    shutil.copyfile(last, final)
    cpu = time.process_time() + args._cpu_before
    log(f'done: {step} steps, process CPU time {cpu / 60:.1f} min, checkpoint {final}')
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        tmp = tempfile.mkdtemp(prefix='qsr_smoke_')
        try:
            make_smoke_data(tmp)
            args.data = os.path.join(tmp, 'train')
            args.val = os.path.join(tmp, 'val')
            args.out = os.path.join(tmp, 'out')
            args.channels, args.blocks = 8, 4
            args.embed_dim, args.depths, args.heads, args.window = 8, '2,2', 2, 4
            args.steps, args.batch, args.patch = 6, 2, 8
            args.warmup, args.dqa_start = 1, 0.34
            args.val_every = args.ckpt_every = args.log_every = 3
            rc = train(args)
            if rc == 0:
                sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
                import export
                out_qsr = os.path.join(tmp, 'smoke.qsr')
                export.export(os.path.join(args.out, 'final.pt'), out_qsr)
                print(f'smoke: exported {os.path.getsize(out_qsr)} bytes OK')
            return rc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.data:
        raise SystemExit('--data is required (or --smoke)')
    return train(args)


if __name__ == '__main__':
    sys.exit(main())
