"""Small inline SVG charts (our own markup, no script, no CDN): daily requests by channel as stacked bars,
and minutes to confirmation as a histogram. Each carries a title and a description for screen readers."""

from __future__ import annotations

from html import escape

from hotline.centre_report.figures import CentreFigures

PHONE, ONLINE = "#2f6fb3", "#e08a1e"


def daily_calls(fig: CentreFigures, width: int = 640, height: int = 180) -> str:
    n = max(len(fig.daily), 1)
    top = max([p + o for _, p, o in fig.daily] + [1])
    bar = (width - 40) / n
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 30}" role="img" aria-labelledby="c1t c1d">',
             '<title id="c1t">일별 접수 (전화·온라인)</title>',
             f'<desc id="c1d">{escape(fig.month)} 전화 {fig.calls_phone}건, 온라인 {fig.calls_online}건</desc>',
             f'<text x="0" y="12" font-size="11">{top}</text>']
    for i, (day, phone, online) in enumerate(fig.daily):
        x = 30 + i * bar
        hp, ho = phone / top * height, online / top * height
        parts.append(f'<rect x="{x:.1f}" y="{height - hp + 10:.1f}" width="{bar * .8:.1f}" height="{hp:.1f}" fill="{PHONE}">'
                     f'<title>{day:%m/%d} 전화 {phone}</title></rect>')
        parts.append(f'<rect x="{x:.1f}" y="{height - hp - ho + 10:.1f}" width="{bar * .8:.1f}" height="{ho:.1f}" '
                     f'fill="{ONLINE}"><title>{day:%m/%d} 온라인 {online}</title></rect>')
        if day.day in (1, 10, 20):
            parts.append(f'<text x="{x:.1f}" y="{height + 25}" font-size="11">{day.month}/{day.day}</text>')
    parts.append(f'<line x1="28" y1="{height + 10}" x2="{width}" y2="{height + 10}" stroke="#888"/></svg>')
    return "".join(parts)


def wait_histogram(fig: CentreFigures, width: int = 640, height: int = 160) -> str:
    edges = [0, 5, 10, 15, 30, 60, 120]
    labels = ["0–5분", "5–10분", "10–15분", "15–30분", "30–60분", "1–2시간", "2시간+"]
    counts = [0] * len(labels)
    for w in fig.waits:
        idx = next((i for i in range(len(edges) - 1, -1, -1) if w >= edges[i]), 0)
        counts[idx] += 1
    top = max(counts + [1])
    bar = (width - 20) / len(labels)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 40}" role="img" aria-labelledby="c2t c2d">',
             '<title id="c2t">확정까지 걸린 시간</title>',
             f'<desc id="c2d">중앙값 {fig.median_minutes}분, 90백분위 {fig.p90_minutes}분</desc>']
    for i, (label, n) in enumerate(zip(labels, counts)):
        x, h = 10 + i * bar, n / top * height
        parts.append(f'<rect x="{x:.1f}" y="{height - h + 10:.1f}" width="{bar * .8:.1f}" height="{h:.1f}" fill="{PHONE}">'
                     f'<title>{label} {n}건</title></rect>')
        parts.append(f'<text x="{x:.1f}" y="{height + 25}" font-size="11">{label}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height - h + 6:.1f}" font-size="11">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)
