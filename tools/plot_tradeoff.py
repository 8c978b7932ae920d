#!/usr/bin/python3
"""Draws Y-PSNR against compute (MACs per LR pixel) for every model and depth level of
models/results.csv (tools/eval_models.py writes it) into docs/tradeoff.png: one panel per scale,
one colour and marker per model, its depth levels joined by a line, bicubic as a dashed line.
Only PIL is needed (no matplotlib).

    /usr/bin/python3 tools/plot_tradeoff.py [--csv models/results.csv] [--out docs/tradeoff.png]
        [--set Set5|Set14] [--size 1000x650]
"""

import argparse
import math
import os
import sys

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results_csv as rc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPERSAMPLE = 2  # drawn this many times larger, then box-averaged down: smooth lines, and a
#                  marker's inside keeps its exact colour
FONT_PATHS = ('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
              '/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf',
              '/usr/share/fonts/truetype/lato/Lato-Regular.ttf')
# Okabe-Ito colours (told apart with colour-blindness too), then markers: a model keeps both.
COLORS = ((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0),
          (86, 180, 233), (0, 0, 0), (240, 228, 66))
MARKERS = ('circle', 'square', 'triangle', 'diamond', 'triangle_down', 'hexagon')
BICUBIC_COLOR = (110, 110, 110)
GRID_COLOR = (225, 225, 225)
AXIS_COLOR = (60, 60, 60)
TEXT_COLOR = (20, 20, 20)
MARKER_RADIUS = 7


def model_style(index):
    """(colour, marker) of the index-th model (models sorted by name)."""
    return COLORS[index % len(COLORS)], MARKERS[index % len(MARKERS)]


def nice_ticks(lo, hi, target=6):
    """Round tick values covering [lo, hi] with about `target` intervals (1/2/2.5/5 x 10^k)."""
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [i * step for i in range(first, last + 1)], step


def tick_label(value, step):
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10 ** decimals % 1:  # 2.5 x 10^k needs one more digit
        decimals += 1
    return '%.*f' % (decimals, value)


class Canvas:
    """An RGB image drawn in 1x coordinates at SUPERSAMPLE resolution."""

    def __init__(self, size, font_paths):
        self.size = size
        self.img = Image.new('RGB', (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 'white')
        self.draw = ImageDraw.Draw(self.img)
        self.font_paths = font_paths
        self.fonts = {}

    def font(self, size):
        if size not in self.fonts:
            self.fonts[size] = ImageFont.load_default()
            for path in self.font_paths:
                if os.path.exists(path):
                    self.fonts[size] = ImageFont.truetype(path, size * SUPERSAMPLE)
                    break
        return self.fonts[size]

    @staticmethod
    def _s(*values):
        return [round(v * SUPERSAMPLE) for v in values]

    def line(self, points, color, width=1):
        self.draw.line(self._s(*[c for p in points for c in p]), fill=color,
                       width=max(1, round(width * SUPERSAMPLE)))

    def dashed(self, x0, x1, y, color, width=2, dash=9, gap=6):
        x = x0
        while x < x1:
            self.line([(x, y), (min(x + dash, x1), y)], color, width)
            x += dash + gap

    def rect(self, box, outline, width=1):
        self.draw.rectangle(self._s(*box), outline=outline, width=round(width * SUPERSAMPLE))

    def text_size(self, text, size):
        box = self.draw.textbbox((0, 0), text, font=self.font(size))
        return (box[2] - box[0]) / SUPERSAMPLE, (box[3] - box[1]) / SUPERSAMPLE

    def text(self, xy, text, size, anchor='la', color=TEXT_COLOR):
        """anchor: horizontal l/m/r, vertical a (top)/m/b, as PIL's, applied by hand so that
        the bitmap fallback font (which has no anchors) places text the same way."""
        w, h = self.text_size(text, size)
        x = xy[0] - {'l': 0, 'm': w / 2, 'r': w}[anchor[0]]
        y = xy[1] - {'a': 0, 'm': h / 2, 'b': h}[anchor[1]]
        box = self.draw.textbbox((0, 0), text, font=self.font(size))
        self.draw.text((round(x * SUPERSAMPLE) - box[0], round(y * SUPERSAMPLE) - box[1]), text,
                       font=self.font(size), fill=color)

    def vertical_text(self, xy, text, size):
        """text turned 90 degrees counter-clockwise, centred on xy."""
        font = self.font(size)
        box = self.draw.textbbox((0, 0), text, font=font)
        label = Image.new('RGB', (box[2] - box[0] + 2, box[3] - box[1] + 2), 'white')
        ImageDraw.Draw(label).text((1 - box[0], 1 - box[1]), text, font=font, fill=TEXT_COLOR)
        label = label.rotate(90, expand=True)
        self.img.paste(label, (round(xy[0] * SUPERSAMPLE - label.width / 2),
                               round(xy[1] * SUPERSAMPLE - label.height / 2)))

    def marker(self, xy, kind, color, r=MARKER_RADIUS):
        x, y = xy
        if kind == 'circle':
            self.draw.ellipse(self._s(x - r, y - r, x + r, y + r), fill=color, outline='white',
                              width=SUPERSAMPLE)
            return
        if kind == 'square':
            r *= 0.85
            pts = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
        elif kind == 'hexagon':
            pts = [(x + r * math.cos(a), y + r * math.sin(a))
                   for a in (math.pi / 3 * i for i in range(6))]
        else:
            r *= 1.15
            pts = {'triangle': [(x, y - r), (x + r, y + 0.75 * r), (x - r, y + 0.75 * r)],
                   'triangle_down': [(x, y + r), (x + r, y - 0.75 * r), (x - r, y - 0.75 * r)],
                   'diamond': [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]}[kind]
        self.draw.polygon(self._s(*[c for p in pts for c in p]), fill=color, outline='white')

    def finish(self):
        return self.img.reduce(SUPERSAMPLE) if SUPERSAMPLE > 1 else self.img


def _axis_range(values, min_span, target):
    lo, hi = min(values), max(values)
    pad = max(hi - lo, min_span) * 0.08
    ticks, step = nice_ticks(lo - pad, hi + pad, target)
    return ticks, step


def draw_panel(canvas, box, scale, models, bicubic, set_name, styles):
    """One scale: models is {name: [rows]}, bicubic the scale's bicubic row (or None)."""
    psnr_col = rc.score_column(set_name, 'psnr')
    x0, y0, x1, y1 = box
    points = [r for rows in models.values() for r in rows]
    ys = [r[psnr_col] for r in points] + ([bicubic[psnr_col]] if bicubic else [])
    xticks, xstep = nice_ticks(0, max(r['macs_per_lr_pixel'] for r in points) / 1000 * 1.08, 5)
    yticks, ystep = _axis_range(ys, 0.5, 6)

    def to_px(macs, psnr):
        fx = (macs / 1000 - xticks[0]) / (xticks[-1] - xticks[0])
        fy = (psnr - yticks[0]) / (yticks[-1] - yticks[0])
        return x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)

    for t in xticks:
        x = to_px(t * 1000, yticks[0])[0]
        canvas.line([(x, y0), (x, y1)], GRID_COLOR)
        canvas.line([(x, y1), (x, y1 + 5)], AXIS_COLOR)
        canvas.text((x, y1 + 8), tick_label(t, xstep), 13, 'ma')
    for t in yticks:
        y = to_px(0, t)[1]
        canvas.line([(x0, y), (x1, y)], GRID_COLOR)
        canvas.line([(x0 - 5, y), (x0, y)], AXIS_COLOR)
        canvas.text((x0 - 8, y), tick_label(t, ystep), 13, 'rm')
    canvas.rect(box, AXIS_COLOR)
    canvas.text(((x0 + x1) / 2, y0 - 8), 'x%d' % scale, 16, 'mb')
    canvas.text(((x0 + x1) / 2, y1 + 30), 'MACs per LR pixel (thousands)', 14, 'ma')
    canvas.vertical_text((x0 - 58, (y0 + y1) / 2), '%s Y-PSNR (dB)' % set_name, 14)
    if bicubic:
        y = to_px(0, bicubic[psnr_col])[1]
        canvas.dashed(x0 + 2, x1 - 2, y, BICUBIC_COLOR)
        canvas.text((x0 + 8, y - 4), 'bicubic x%d: %.2f dB' % (scale, bicubic[psnr_col]), 13,
                    'lb', BICUBIC_COLOR)
    for name, rows in sorted(models.items()):
        color, kind = styles[name]
        rows = sorted(rows, key=lambda r: r['macs_per_lr_pixel'])
        pts = [to_px(r['macs_per_lr_pixel'], r[psnr_col]) for r in rows]
        if len(pts) > 1:
            canvas.line(pts, color, 2)
        for r, p in zip(rows, pts):
            canvas.marker(p, kind, color)
            canvas.text((p[0] - MARKER_RADIUS - 3, p[1] - MARKER_RADIUS - 1), str(r['depth']),
                        12, 'rb', color)


def legend_label(rows):
    r = rows[0]
    bits = r['bits'] if not r['bits'].isdigit() else 'w%sa%s' % (r['bits'], r['bits'])
    name = r['model'][:-4] if r['model'].endswith('.qsr') else r['model']
    return '%s  (x%d, %s, %s ch x %s blocks)' % (name, r['scale'], bits.upper(), r['channels'],
                                                 r['blocks'])


def draw_legend(canvas, top, models, styles):
    """Entries in two columns under the panels; the last one is bicubic."""
    w = canvas.size[0]
    col_w = (w - 80) / 2
    entries = [(legend_label(rows), styles[name]) for name, rows in sorted(models.items())]
    entries.append(('bicubic (per scale)', None))
    for i, (label, style) in enumerate(entries):
        x = 40 + (i % 2) * col_w
        y = top + (i // 2) * 24
        if style:
            canvas.line([(x, y), (x + 36, y)], style[0], 2)
            canvas.marker((x + 18, y), style[1], style[0])
        else:
            canvas.dashed(x, x + 36, y, BICUBIC_COLOR)
        canvas.text((x + 46, y), label, 14, 'lm')


def draw_tradeoff(rows, set_name='Set5', size=(1000, 650), font_paths=FONT_PATHS):
    """The chart of results rows as an RGB PIL image; ValueError if no model has a PSNR."""
    psnr_col = rc.score_column(set_name, 'psnr')
    measured = [r for r in rows if r['model'] != rc.BICUBIC and r[psnr_col] is not None]
    if not measured:
        raise ValueError('no %s PSNR of any model in the results' % set_name)
    models = {}
    for r in measured:
        models.setdefault(r['model'], []).append(r)
    styles = {name: model_style(i) for i, name in enumerate(sorted(models))}
    bicubic = {r['scale']: r for r in rows if r['model'] == rc.BICUBIC and r[psnr_col] is not None}
    scales = sorted({r['scale'] for r in measured})

    canvas = Canvas(size, font_paths)
    w, h = size
    canvas.text((w / 2, 14), 'QuantSR: %s Y-PSNR against compute, every model and depth level'
                % set_name, 18, 'ma')
    canvas.text((w / 2, 40), 'measured by quantsr eval (tools/eval_models.py); the number at a '
                'point is its depth (blocks or Swin layers run)', 13, 'ma', (90, 90, 90))
    legend_rows = (len(models) + 2) // 2
    bottom = h - 16 - 24 * legend_rows
    left, right, gap = 95, w - 25, 95
    panel_w = (right - left - gap * (len(scales) - 1)) / len(scales)
    for i, scale in enumerate(scales):
        x0 = left + i * (panel_w + gap)
        draw_panel(canvas, (x0, 95, x0 + panel_w, bottom - 60), scale,
                   {n: rs for n, rs in models.items() if rs[0]['scale'] == scale},
                   bicubic.get(scale), set_name, styles)
    draw_legend(canvas, bottom, models, styles)
    return canvas.finish()


def parse_size(text):
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError('size %r is not WxH' % text) from None
    if not (400 <= w <= 4000 and 300 <= h <= 4000):
        raise argparse.ArgumentTypeError('size %r: width 400-4000, height 300-4000' % text)
    return w, h


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--csv', default=rc.DEFAULT_PATH)
    p.add_argument('--out', default=os.path.join(ROOT, 'docs', 'tradeoff.png'))
    p.add_argument('--set', default='Set5', choices=rc.SETS)
    p.add_argument('--size', default=(1000, 650), type=parse_size, help='WxH (1000x650)')
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        image = draw_tradeoff(rc.read_results(args.csv), args.set, args.size)
        image.save(args.out)
    except (OSError, ValueError) as e:
        print('plot_tradeoff.py: %s' % e, file=sys.stderr)
        return 1
    print('wrote %s' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
