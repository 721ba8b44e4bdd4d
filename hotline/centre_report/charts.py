"""Small inline SVG charts (our own markup, no script, no CDN): daily requests by channel as stacked bars,
and minutes to confirmation as a histogram of horizontal bars. Each carries a title and a description for
screen readers.

The charts scale with the page (`width: 100%`), so text drawn at 13 user units would be ~7 px on a phone:
dolbom.css draws chart text larger where the screen is narrow (`svg.chart text`), and the layout here
leaves room for text of up to 24 units — about 12.5 px once a 640-unit chart is scaled to a phone's card."""

from __future__ import annotations

from html import escape

from hotline.centre_report.figures import CentreFigures

PHONE, ONLINE = "#2f6fb3", "#e08a1e"
WIDTH = 640
TEXT = 'font-size="13"'  # desktop size; the stylesheet's phone rule replaces it


def daily_calls(fig: CentreFigures, width: int = WIDTH, height: int = 170) -> str:
    n = max(len(fig.daily), 1)
    top = max([p + o for _, p, o in fig.daily] + [1])
    left, above, below = 46, 30, 42  # room for the largest value, and for the day labels under the axis
    bar = (width - left) / n
    axis = above + height
    parts = [f'<svg class="chart" viewBox="0 0 {width} {axis + below}" role="img" aria-labelledby="c1t c1d">',
             '<title id="c1t">일별 접수 (전화·온라인)</title>',
             f'<desc id="c1d">{escape(fig.month)} 전화 {fig.calls_phone}건, 온라인 {fig.calls_online}건</desc>',
             f'<text x="0" y="{above + 8}" {TEXT}>{top}</text>']
    for i, (day, phone, online) in enumerate(fig.daily):
        x = left + i * bar
        hp, ho = phone / top * height, online / top * height
        parts.append(f'<rect x="{x:.1f}" y="{axis - hp:.1f}" width="{bar * .8:.1f}" height="{hp:.1f}" fill="{PHONE}">'
                     f'<title>{day:%m/%d} 전화 {phone}</title></rect>')
        parts.append(f'<rect x="{x:.1f}" y="{axis - hp - ho:.1f}" width="{bar * .8:.1f}" height="{ho:.1f}" '
                     f'fill="{ONLINE}"><title>{day:%m/%d} 온라인 {online}</title></rect>')
        if day.day in (1, 10, 20):
            parts.append(f'<text x="{x:.1f}" y="{axis + 30}" {TEXT}>{day.month}/{day.day}</text>')
    parts.append(f'<line x1="{left - 2}" y1="{axis}" x2="{width}" y2="{axis}" stroke="#888"/></svg>')
    return "".join(parts)


def wait_histogram(fig: CentreFigures, width: int = WIDTH) -> str:
    """One row per band, label on the left: the labels keep their room whatever the screen's width."""
    edges = [0, 5, 10, 15, 30, 60, 120]
    labels = ["0–5분", "5–10분", "10–15분", "15–30분", "30–60분", "1–2시간", "2시간+"]
    counts = [0] * len(labels)
    for w in fig.waits:
        idx = next((i for i in range(len(edges) - 1, -1, -1) if w >= edges[i]), 0)
        counts[idx] += 1
    top = max(counts + [1])
    label_width, count_width, row = 130, 64, 34
    room = width - label_width - count_width
    parts = [f'<svg class="chart" viewBox="0 0 {width} {row * len(labels) + 6}" role="img" '
             'aria-labelledby="c2t c2d">',
             '<title id="c2t">확정까지 걸린 시간</title>',
             f'<desc id="c2d">중앙값 {fig.median_minutes}분, 90백분위 {fig.p90_minutes}분</desc>']
    for i, (label, n) in enumerate(zip(labels, counts)):
        y, w = i * row + 4, n / top * room
        parts.append(f'<text x="0" y="{y + 22}" {TEXT}>{label}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="22" fill="{PHONE}">'
                     f'<title>{label} {n}건</title></rect>')
        parts.append(f'<text x="{label_width + w + 8:.1f}" y="{y + 22}" {TEXT}>{n}건</text>')
    parts.append("</svg>")
    return "".join(parts)
