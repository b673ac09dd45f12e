"""The status page's chart of the last hours, drawn as SVG on the server (no script, no library)."""

from __future__ import annotations

from datetime import tzinfo

from markupsafe import Markup, escape

from ..operations.console import Hour

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 12, 28


def _top(value: int) -> int:
    """A round axis maximum at or above `value`."""
    for top in (4, 8, 12, 20, 40, 60, 100, 200, 400, 600, 1000, 2000, 4000, 6000, 10000, 20000, 40000):
        if value <= top:
            return top  # divisible by 4: the four grid steps are whole numbers
    return -(-value // 4) * 4


def hours_chart(hours: list[Hour], tz: tzinfo) -> Markup:
    """Bars: SMS sent per hour (left axis); line: messages waiting in the outbox at each hour (right axis)."""
    if not hours:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    sent_max, queue_max = _top(max(h.sent for h in hours)), _top(max(h.queued for h in hours))
    step = plot_w / len(hours)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             'aria-label="SMS terkirim per jam dan panjang antrean, 24 jam terakhir">']
    for i in range(5):
        y = TOP + plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{round(sent_max * (4 - i) / 4)}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT + 4}" y="{y + 4:.1f}">{round(queue_max * (4 - i) / 4)}</text>')
    points = []
    for i, hour in enumerate(hours):
        x = LEFT + i * step
        height = plot_h * hour.sent / sent_max
        label = f"{hour.start.astimezone(tz):%H}.00: {hour.sent} SMS terkirim, antrean {hour.queued}"
        parts.append(f'<rect class="sent" x="{x + 1:.1f}" y="{TOP + plot_h - height:.1f}" width="{step - 2:.1f}" '
                     f'height="{height:.1f}"><title>{escape(label)}</title></rect>')
        points.append(f"{x + step / 2:.1f},{TOP + plot_h - plot_h * hour.queued / queue_max:.1f}")
        if i % 3 == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                         f'{hour.start.astimezone(tz):%H}</text>')
    parts.append(f'<polyline class="queue" points="{" ".join(points)}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
