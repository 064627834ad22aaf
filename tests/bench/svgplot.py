# SPDX-License-Identifier: MIT
# tests/bench/svgplot.py — the few charts docs/PERFORMANCE.md shows, written
# as plain SVG by hand: no plotting library to install on a bench machine,
# and the files diff as text when a figure moves.
#
#   lines(path, title, x_label, y_label, series, log_x=False, log_y=False, hlines=())
#       series: [(name, [(x, y), ...]), ...]; hlines: [(y, label), ...]
#   bars(path, title, x_label, groups)
#       groups: [(label, [(name, value), ...]), ...], horizontal bars
#   histogram(path, title, x_label, values, bins, marks=())
#       values: samples; bins: ascending edges (log spaced if you like);
#       marks: [(x, label), ...] drawn as vertical lines (percentiles, aims)
# Every chart is 720 x 400 px, sans-serif, the same palette.
import math
from xml.sax.saxutils import escape

W, H = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 80, 190, 40, 60
PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']


def _svg(body, title):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
            f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="{W}" height="{H}" fill="white"/>\n'
            f'<text x="{W / 2:.0f}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>\n'
            + '\n'.join(body) + '\n</svg>\n')


def _ticks(lo, hi, log):
    """Tick values covering [lo, hi]: decades on a log axis, 1-2-5 steps otherwise."""
    if log:
        return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    span = hi - lo or 1.0
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 2)]


def _fmt(v):
    if v == 0:
        return '0'
    if abs(v) >= 100:
        return f'{v:,.0f}'
    if abs(v) >= 1:
        return f'{v:.3g}'
    return f'{v:.2g}'


class _Axis:
    def __init__(self, lo, hi, log, pixels_from, pixels_to):
        if log:
            lo, hi = max(lo, 1e-9), max(hi, lo * 10)
        ticks = _ticks(lo, hi, log)
        self.lo, self.hi, self.log = ticks[0], ticks[-1], log
        self.a, self.b = pixels_from, pixels_to
        self.ticks = ticks

    def __call__(self, v):
        if self.log:
            v = max(v, self.lo)
            t = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            t = (v - self.lo) / ((self.hi - self.lo) or 1.0)
        return self.a + t * (self.b - self.a)


def _frame(body, xa, ya, x_label, y_label):
    x0, x1, y0, y1 = LEFT, W - RIGHT, H - BOTTOM, TOP
    for t in xa.ticks:
        x = xa(t)
        body.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="#e5e5e5"/>')
        body.append(f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">{_fmt(t)}</text>')
    if ya is not None:
        for t in ya.ticks:
            y = ya(t)
            body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e5e5e5"/>')
            body.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    body.append(f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" stroke="#333"/>')
    body.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{H - 18}" text-anchor="middle">{escape(x_label)}</text>')
    if y_label:
        body.append(f'<text x="18" y="{(y0 + y1) / 2:.0f}" text-anchor="middle" '
                    f'transform="rotate(-90 18 {(y0 + y1) / 2:.0f})">{escape(y_label)}</text>')


def _legend(body, names):
    for i, name in enumerate(names):
        y = TOP + 10 + 18 * i
        color = PALETTE[i % len(PALETTE)]
        body.append(f'<rect x="{W - RIGHT + 12}" y="{y - 9}" width="12" height="12" fill="{color}"/>')
        body.append(f'<text x="{W - RIGHT + 30}" y="{y + 1}">{escape(name)}</text>')


def lines(path, title, x_label, y_label, series, log_x=False, log_y=False, hlines=()):
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts] + [y for y, _ in hlines]
    xa = _Axis(min(xs), max(xs), log_x, LEFT, W - RIGHT)
    ya = _Axis(0 if not log_y else min(ys), max(ys), log_y, H - BOTTOM, TOP)
    body = []
    _frame(body, xa, ya, x_label, y_label)
    for y, label in hlines:
        body.append(f'<line class="hline" x1="{LEFT}" y1="{ya(y):.1f}" x2="{W - RIGHT}" y2="{ya(y):.1f}" '
                    f'stroke="#555" stroke-dasharray="6 4"/>')
        body.append(f'<text x="{W - RIGHT - 4}" y="{ya(y) - 5:.1f}" text-anchor="end" fill="#555">'
                    f'{escape(label)}</text>')
    for i, (name, pts) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        d = ' '.join(f'{xa(x):.1f},{ya(y):.1f}' for x, y in pts)
        body.append(f'<polyline class="series" data-name="{escape(name)}" points="{d}" fill="none" '
                    f'stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            body.append(f'<circle class="point" cx="{xa(x):.1f}" cy="{ya(y):.1f}" r="3" fill="{color}">'
                        f'<title>{escape(name)}: {_fmt(x)}, {_fmt(y)}</title></circle>')
    _legend(body, [n for n, _ in series])
    _write(path, _svg(body, title))


def bars(path, title, x_label, groups):
    values = [v for _, items in groups for _, v in items]
    xa = _Axis(0, max(values), False, LEFT + 90, W - RIGHT)
    names = []
    for _, items in groups:
        for n, _ in items:
            if n not in names:
                names.append(n)
    body = []
    rows = sum(len(items) for _, items in groups) + len(groups)
    band = (H - BOTTOM - TOP) / rows
    _frame(body, xa, None, x_label, '')
    y = TOP
    for label, items in groups:
        body.append(f'<text x="{LEFT + 84}" y="{y + band * (len(items) + 1) / 2 + 4:.1f}" '
                    f'text-anchor="end">{escape(label)}</text>')
        y += band / 2
        for n, v in items:
            color = PALETTE[names.index(n) % len(PALETTE)]
            body.append(f'<rect class="bar" data-value="{v}" x="{xa(0):.1f}" y="{y + 2:.1f}" '
                        f'width="{xa(v) - xa(0):.1f}" height="{band - 4:.1f}" fill="{color}">'
                        f'<title>{escape(label)}, {escape(n)}: {_fmt(v)}</title></rect>')
            body.append(f'<text x="{xa(v) + 4:.1f}" y="{y + band / 2 + 4:.1f}">{_fmt(v)}</text>')
            y += band
        y += band / 2
    _legend(body, names)
    _write(path, _svg(body, title))


def histogram(path, title, x_label, values, bins, marks=()):
    counts = [0] * (len(bins) - 1)
    for v in values:
        for i in range(len(bins) - 1):
            if bins[i] <= v < bins[i + 1] or (i == len(bins) - 2 and v >= bins[-1]):
                counts[i] += 1
                break
        else:
            if v < bins[0]:
                counts[0] += 1
    log = bins[0] > 0 and bins[-1] / bins[0] > 100
    xa = _Axis(bins[0], bins[-1], log, LEFT, W - RIGHT)
    ya = _Axis(0, max(counts) or 1, False, H - BOTTOM, TOP)
    body = []
    _frame(body, xa, ya, x_label, 'drops')
    for i, c in enumerate(counts):
        x0, x1 = xa(bins[i]), xa(bins[i + 1])
        body.append(f'<rect class="bin" data-count="{c}" x="{x0 + 0.5:.1f}" y="{ya(c):.1f}" '
                    f'width="{max(x1 - x0 - 1, 0.5):.1f}" height="{ya(0) - ya(c):.1f}" fill="{PALETTE[0]}">'
                    f'<title>{_fmt(bins[i])} to {_fmt(bins[i + 1])}: {c}</title></rect>')
    for j, (x, label) in enumerate(marks):
        body.append(f'<line class="mark" x1="{xa(x):.1f}" y1="{H - BOTTOM}" x2="{xa(x):.1f}" y2="{TOP}" '
                    f'stroke="{PALETTE[1 + j % 5]}" stroke-dasharray="5 3"/>')
        body.append(f'<text x="{W - RIGHT + 12}" y="{TOP + 10 + 18 * j}" fill="{PALETTE[1 + j % 5]}">'
                    f'{escape(label)}</text>')
    _write(path, _svg(body, title))


def _write(path, text):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
