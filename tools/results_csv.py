#!/usr/bin/python3
"""models/results.csv: the measured quality and cost of every model at every depth level, the one
source of the numbers in models/README.md, docs/tradeoff.png and the viewer.

Plain CSV with a header line, one row per (model, depth level) plus one `bicubic` row per scale:

    model               model file name (`bicubic` for the baseline)
    scale               upscaling factor
    bits                weight/activation bits: `4` when both are 4, `w4a2` when they differ
    channels, blocks    network width and block count (empty for bicubic)
    depth               blocks run (0 for bicubic)
    macs_per_lr_pixel   multiply-accumulates per low-resolution pixel at that depth (0 for bicubic)
    set5_psnr, set5_ssim, set14_psnr, set14_ssim
                        Y-channel means (PSNR in dB, 3 decimals; SSIM 4 decimals), empty if not
                        measured

`tools/eval_models.py` writes it; `/usr/bin/python3 tools/results_csv.py [CSV]` prints the
markdown tables of models/README.md from it.
"""

import csv
import os
import sys

SETS = ('Set5', 'Set14')
COLUMNS = ('model', 'scale', 'bits', 'channels', 'blocks', 'depth', 'macs_per_lr_pixel',
           'set5_psnr', 'set5_ssim', 'set14_psnr', 'set14_ssim')
BICUBIC = 'bicubic'
INT_COLUMNS = ('scale', 'channels', 'blocks', 'depth', 'macs_per_lr_pixel')
SCORE_FORMATS = {'psnr': '%.3f', 'ssim': '%.4f'}
DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            'models', 'results.csv')


def score_column(set_name, metric):
    """'Set5', 'psnr' -> 'set5_psnr'."""
    return '%s_%s' % (set_name.lower(), metric)


def bits_label(bits_w, bits_a):
    return str(bits_w) if bits_w == bits_a else 'w%da%d' % (bits_w, bits_a)


def _parse_row(path, line, raw):
    row = {}
    for name in COLUMNS:
        text = (raw.get(name) or '').strip()
        try:
            if name in INT_COLUMNS:
                row[name] = int(text) if text else None
                if row[name] is not None and row[name] < 0:
                    raise ValueError
            elif name.endswith('_psnr') or name.endswith('_ssim'):
                row[name] = float(text) if text else None
            else:
                row[name] = text
        except ValueError:
            raise ValueError('%s line %d: %s is %r, not a %s' % (
                path, line, name, text,
                'non-negative integer' if name in INT_COLUMNS else 'number')) from None
    for name in ('model', 'scale', 'depth', 'macs_per_lr_pixel'):
        if row[name] in (None, ''):
            raise ValueError('%s line %d: %s is empty' % (path, line, name))
    if row['model'] != BICUBIC and (not row['bits'] or not row['depth']):
        raise ValueError('%s line %d: model %s needs bits and a depth above 0' % (
            path, line, row['model']))
    return row


def read_results(path):
    """The rows of a results CSV as dicts (ints, floats, None for empty cells). Raises ValueError
    naming the file, line and column of anything malformed."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError('%s: header lacks column(s) %s' % (path, ', '.join(missing)))
        return [_parse_row(path, reader.line_num, raw) for raw in reader]


def _cell(name, value):
    if value is None:
        return ''
    metric = name.rsplit('_', 1)[-1]
    if metric in SCORE_FORMATS:
        return SCORE_FORMATS[metric] % value
    return str(value)


def sort_key(row):
    """Bicubic first within a scale, then models by name, deepest level first."""
    return (row['scale'], row['model'] != BICUBIC, row['model'], -row['depth'])


def write_results(path, rows):
    """Writes rows (dicts with the COLUMNS keys) sorted by sort_key; atomically (temp + rename),
    so a reader never sees half a file."""
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(COLUMNS)
        for row in sorted(rows, key=sort_key):
            writer.writerow([_cell(name, row.get(name)) for name in COLUMNS])
    os.replace(tmp, path)


def _score_cells(row):
    return [_cell(score_column(s, m), row.get(score_column(s, m)))
            for s in SETS for m in ('psnr', 'ssim')]


def markdown_tables(rows):
    """One table per model (the format of models/README.md), its scale's bicubic row last."""
    bicubic = {r['scale']: r for r in rows if r['model'] == BICUBIC}
    header = '| depth | ' + ' | '.join('%s Y-PSNR | %s SSIM' % (s, s) for s in SETS) + ' |'
    out = []
    for model in sorted({r['model'] for r in rows if r['model'] != BICUBIC}):
        levels = sorted((r for r in rows if r['model'] == model), key=lambda r: -r['depth'])
        out += ['### %s' % model, '', header, '|---' * (1 + 2 * len(SETS)) + '|']
        for r in levels:
            depth = '%d (full)' % r['depth'] if r['depth'] == r['blocks'] else str(r['depth'])
            out.append('| %s | %s |' % (depth, ' | '.join(_score_cells(r))))
        if levels[0]['scale'] in bicubic:
            out.append('| bicubic | %s |' % ' | '.join(_score_cells(bicubic[levels[0]['scale']])))
        out.append('')
    return '\n'.join(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ('-h', '--help'):
        print('usage: results_csv.py [CSV]  (prints the markdown tables of models/README.md; '
              'CSV defaults to models/results.csv)')
        return 0
    path = argv[0] if argv else DEFAULT_PATH
    try:
        rows = read_results(path)
    except (OSError, ValueError) as e:
        print('results_csv.py: %s' % e, file=sys.stderr)
        return 1
    print(markdown_tables(rows), end='')
    return 0


if __name__ == '__main__':
    sys.exit(main())
