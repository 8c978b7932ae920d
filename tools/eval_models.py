#!/usr/bin/python3
"""Measures every model of models/ at every depth level with the C runtime (`quantsr eval`) on
Set5 and Set14, and writes models/results.csv (format: tools/results_csv.py), then prints the
markdown tables of models/README.md from it.

    /usr/bin/python3 tools/eval_models.py [--models models/] [--data ../shared/datasets/eval]
        [--cli build/quantsr] [--out models/results.csv] [NAME.qsr ...]

With NAMEs only those models are measured; the rows of the other models still in the folder are
kept from the existing CSV (rows of models no longer there are dropped). Bicubic rows come from
the same `quantsr eval` runs (they do not depend on the model, only on the scale).
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results_csv as rc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EvalError(Exception):
    pass


def run_json(cmd):
    """Runs a quantsr command that prints one JSON object; EvalError on failure."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise EvalError('%s exited %d: %s' % (' '.join(cmd), proc.returncode,
                                              proc.stderr.strip()))
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise EvalError('%s printed no valid JSON (%s)' % (' '.join(cmd), e)) from None


def model_info(cli, path):
    info = run_json([cli, 'info', '-m', path, '--json'])
    for key in ('scale', 'channels', 'blocks', 'bits_w', 'bits_a', 'depth_levels',
                'macs_per_pixel'):
        if key not in info:
            raise EvalError('%s: `quantsr info --json` lacks %s' % (path, key))
    if len(info['depth_levels']) != len(info['macs_per_pixel']):
        raise EvalError('%s: %d depth levels but %d MAC counts' % (
            path, len(info['depth_levels']), len(info['macs_per_pixel'])))
    return info


def eval_set(cli, path, hr_dir, depth):
    """(psnr, ssim, bicubic_psnr, bicubic_ssim) means of one folder at one depth."""
    res = run_json([cli, 'eval', '-m', path, '--hr', hr_dir, '--depth', str(depth), '--json'])
    if res.get('failed') or not res.get('images'):
        raise EvalError('%s on %s: %s images measured, %s failed' % (
            path, hr_dir, res.get('images'), res.get('failed')))
    if res.get('depth') != depth:
        raise EvalError('%s: asked for depth %d, eval ran %s' % (path, depth, res.get('depth')))
    values = [res.get(k) for k in ('psnr_y', 'ssim_y', 'bicubic_psnr_y', 'bicubic_ssim_y')]
    if any(v is None for v in values):
        raise EvalError('%s on %s: a mean is missing or infinite: %r' % (path, hr_dir, values))
    return values


def evaluate_model(cli, path, set_dirs, bicubic, log):
    """The CSV rows of one model (one per depth level); fills bicubic[scale] from the same runs."""
    info = model_info(cli, path)
    scale = info['scale']
    rows = []
    for depth, macs in zip(info['depth_levels'], info['macs_per_pixel']):
        row = {'model': os.path.basename(path), 'scale': scale,
               'bits': rc.bits_label(info['bits_w'], info['bits_a']),
               'channels': info['channels'], 'blocks': info['blocks'], 'depth': depth,
               'macs_per_lr_pixel': macs}
        for set_name, hr_dir in set_dirs:
            start = time.time()
            psnr, ssim, bic_psnr, bic_ssim = eval_set(cli, path, hr_dir, depth)
            log('%s depth %d %s: %.3f dB / %.4f (bicubic %.3f), %.0f s' % (
                row['model'], depth, set_name, psnr, ssim, bic_psnr, time.time() - start))
            row[rc.score_column(set_name, 'psnr')] = psnr
            row[rc.score_column(set_name, 'ssim')] = ssim
            base = bicubic.setdefault(scale, {'model': rc.BICUBIC, 'scale': scale, 'depth': 0,
                                              'macs_per_lr_pixel': 0})
            base[rc.score_column(set_name, 'psnr')] = bic_psnr
            base[rc.score_column(set_name, 'ssim')] = bic_ssim
        rows.append(row)
    return rows


def merge(old_rows, new_rows, new_bicubic, present):
    """New rows replace the old ones of the same model (or bicubic scale); old rows of models
    whose file is gone are dropped, and so is the bicubic row of a scale no model has left."""
    measured = {r['model'] for r in new_rows}
    kept = [r for r in old_rows if r['model'] in present and r['model'] not in measured]
    scales = {r['scale'] for r in kept} - set(new_bicubic)
    kept += [r for r in old_rows if r['model'] == rc.BICUBIC and r['scale'] in scales]
    return kept + new_rows + list(new_bicubic.values())


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('names', nargs='*', help='model files of --models to measure (default: all)')
    p.add_argument('--models', default=os.path.join(ROOT, 'models'), help='folder of .qsr files')
    p.add_argument('--data', default=os.path.join(os.path.dirname(ROOT), 'shared', 'datasets',
                                                  'eval'), help='folder holding Set5/ and Set14/')
    p.add_argument('--cli', default=os.path.join(ROOT, 'build', 'quantsr'),
                   help='the quantsr binary')
    p.add_argument('--out', help='CSV to write (default: <models>/results.csv)')
    p.add_argument('--sets', default=','.join(rc.SETS),
                   help='comma-separated subset of %s (others stay empty)' % ','.join(rc.SETS))
    return p.parse_args(argv)


def check_inputs(args):
    """The (model paths, [(set, folder)]) to evaluate; EvalError naming what is missing."""
    if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
        raise EvalError('%s is not an executable quantsr binary (build it: cmake --build build, '
                        'or pass --cli)' % args.cli)
    if not os.path.isdir(args.models):
        raise EvalError('model folder %s does not exist' % args.models)
    sets = [s for s in args.sets.split(',') if s]
    unknown = [s for s in sets if s not in rc.SETS]
    if unknown or not sets:
        raise EvalError('--sets %r: choose from %s' % (args.sets, ', '.join(rc.SETS)))
    set_dirs = [(s, os.path.join(args.data, s)) for s in sets]
    for s, d in set_dirs:
        if not os.path.isdir(d):
            raise EvalError('%s folder %s does not exist (--data)' % (s, d))
    present = sorted(n for n in os.listdir(args.models) if n.endswith('.qsr'))
    names = [os.path.basename(n) for n in args.names] or present
    absent = [n for n in names if n not in present]
    if absent:
        raise EvalError('not in %s: %s' % (args.models, ', '.join(absent)))
    if not names:
        raise EvalError('no .qsr file in %s' % args.models)
    return [os.path.join(args.models, n) for n in names], set_dirs, present


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = args.out or os.path.join(args.models, 'results.csv')

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    try:
        paths, set_dirs, present = check_inputs(args)
        old = rc.read_results(out) if os.path.exists(out) else []
        new_rows, bicubic = [], {}
        for path in paths:
            new_rows += evaluate_model(args.cli, path, set_dirs, bicubic, log)
        rows = merge(old, new_rows, bicubic, set(present))
        rc.write_results(out, rows)
        print(rc.markdown_tables(rc.read_results(out)), end='')
    except (EvalError, OSError, ValueError) as e:
        log('eval_models.py: %s' % e)
        return 1
    log('wrote %s (%d rows)' % (out, len(rows)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
