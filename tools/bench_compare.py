#!/usr/bin/python3
"""Two models on the same device, in alternating rounds: how much faster is B than A?

    /usr/bin/python3 tools/bench_compare.py MODEL_A.qsr MODEL_B.qsr [--size 256x256]
        [--depth D] [--runs 5] [--quantsr build/quantsr] [--json]

Each round runs `quantsr bench --ops --json` once for A and once for B, back to back (one
warm-up, one profiled run each, full depth unless --depth). A shared CPU changes speed over
seconds to minutes, so a round's two runs see about the same machine and the script reports
the median of the rounds' own ratios A / B, for the whole run and for the quantized ops
(QuantSR-C's body convolutions), beside the median times and the median fraction of the
device's limit that `bench --ops` measures next to each run. Typical use: the paper-size
network at 4 and at 2 bits (issue 10's "2-bit body 1.6x faster than the 4-bit body").
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qsr_format as qf  # noqa: E402


def run_bench(binary, model, size, depth):
    """One `bench --ops --json` run at `depth` blocks: device, whole device time, quantized ops
    (tools/bench_vs_torch.py times quantsr through it too)."""
    cmd = [binary, 'bench', '--ops', '--json', '-m', model, '--size', size, '--depth', str(depth),
           '--depth-any']
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    profile = doc['profiles'][0]
    quantized = profile.get('quantized', {'gpu_ms': 0.0, 'fraction_of_limit': 0.0})
    return {'device': doc['device'], 'depth': profile['depth'], 'kernel': doc['kernel'],
            'gpu_ms': profile['gpu_ms'],
            'quantized_ms': quantized['gpu_ms'],
            'quantized_fraction_of_limit': quantized['fraction_of_limit']}


def summarize(rounds):
    """Medians over the rounds of each model's figures and of the rounds' ratios A / B."""
    out = {}
    for side in ('a', 'b'):
        out[side] = {k: statistics.median(r[side][k] for r in rounds)
                     for k in ('gpu_ms', 'quantized_ms', 'quantized_fraction_of_limit')}
    out['ratio_gpu_ms'] = statistics.median(r['a']['gpu_ms'] / r['b']['gpu_ms'] for r in rounds)
    if all(r['b']['quantized_ms'] > 0 for r in rounds):
        out['ratio_quantized_ms'] = statistics.median(
            r['a']['quantized_ms'] / r['b']['quantized_ms'] for r in rounds)
    return out


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description='two models, alternating rounds of bench --ops')
    p.add_argument('model_a')
    p.add_argument('model_b')
    p.add_argument('--size', default='256x256')
    p.add_argument('--depth', type=int, default=0, help='blocks to run (default: all)')
    p.add_argument('--runs', type=int, default=5, help='rounds (default 5)')
    p.add_argument('--quantsr', default=os.path.join(here, '..', 'build', 'quantsr'))
    p.add_argument('--json', action='store_true', help='print one JSON object')
    args = p.parse_args(argv)
    if args.runs < 1:
        print('error: --runs takes 1 or more', file=sys.stderr)
        return 1
    try:
        depths = {m: args.depth or qf.read_qsr(m).blocks for m in (args.model_a, args.model_b)}
    except (OSError, qf.QsrFormatError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    rounds = []
    try:
        for _ in range(args.runs):
            rounds.append({side: run_bench(args.quantsr, model, args.size, depths[model])
                           for side, model in (('a', args.model_a), ('b', args.model_b))})
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        detail = getattr(e, 'stderr', '') or ''
        print(f'error: quantsr bench failed: {e} {detail}'.rstrip(), file=sys.stderr)
        return 1
    med = summarize(rounds)
    if args.json:
        print(json.dumps({'model_a': args.model_a, 'model_b': args.model_b, 'size': args.size,
                          'rounds': rounds, **med}, indent=2))
        return 0
    for i, r in enumerate(rounds):
        print(f'round {i + 1}: A {r["a"]["gpu_ms"]:.1f} ms (quantized ops '
              f'{r["a"]["quantized_ms"]:.1f}), B {r["b"]["gpu_ms"]:.1f} ms ('
              f'{r["b"]["quantized_ms"]:.1f})')
    print(f'medians of {len(rounds)} round(s), {args.size}, depth {rounds[0]["a"]["depth"]}:')
    for side, model in (('a', args.model_a), ('b', args.model_b)):
        m = med[side]
        print(f'  {side.upper()} {model} ({rounds[0][side]["kernel"]}): {m["gpu_ms"]:.1f} ms, '
              f'quantized ops {m["quantized_ms"]:.1f} ms at '
              f'{100 * m["quantized_fraction_of_limit"]:.1f} % of the limit')
    print(f'  A / B: whole run {med["ratio_gpu_ms"]:.2f}x', end='')
    if 'ratio_quantized_ms' in med:
        print(f', quantized ops {med["ratio_quantized_ms"]:.2f}x', end='')
    print(' (medians of the rounds\' own ratios; above 1: B is faster)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
