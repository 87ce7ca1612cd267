"""SVG charts drawn on the server. This module knows no model: it takes plain numbers, labels and links.

Every chart is an ``<svg role="img">`` with a ``<title>`` and the numbers drawn as text labels, so it
reads without colour; the pages also show the same numbers in a table for screen readers and print.
"""

from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# A sequential palette (light → dark red) for shares; dark enough steps carry white text.
PALETTE = ["#f1f3f5", "#fde0c5", "#f9b384", "#ee7d4f", "#cf4a30", "#9c2320"]
BAR_COLOUR = "#0b4f6c"
STALL_COLOUR = "#a4262c"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str = ""
    stalled: int | None = None


@dataclass(frozen=True)
class Tile:
    code: str
    label: str
    col: int
    row: int
    value: int
    share: float | None
    href: str = ""


def percent(share: float | None) -> str:
    """A share as a whole percentage, as every page writes one: 0.4567 → "46%"; None (no data) → "–"."""
    return "–" if share is None else f"{round(share * 100)}%"


def _link(href: str, inner: str, label: str = "") -> str:
    if not href:
        return inner
    aria = f' aria-label="{escape(label)}"' if label else ""
    return f'<a href="{escape(href)}"{aria}>{inner}</a>'


def _open_svg(width: int, height: int, title: str, css_class: str) -> str:
    # role="group", not "img": the chart holds links, which an image may not contain.
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" class="{css_class}">'
    )


def palette_index(share: float | None) -> int:
    """0 for no data or no stall, then five steps up to 100 %."""
    if not share:
        return 0
    return min(len(PALETTE) - 1, 1 + int(share * (len(PALETTE) - 1) // 1.0001))


def text_colour(fill: str) -> str:
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if (0.299 * r + 0.587 * g + 0.114 * b) < 140 else "#1b2430"


def bar_chart(bars: list[Bar], title: str, width: int = 560, label_width: int = 190) -> SafeString:
    """Horizontal bars with the value (and the stalled part, when given) written beside each bar."""
    row_h, gap = 24, 6
    height = max(1, len(bars)) * (row_h + gap) + gap
    top = max([b.value for b in bars] + [1])
    plot = width - label_width - 70
    parts = [_open_svg(width, height, title, "bar-chart"), f"<title>{escape(title)}</title>"]
    for i, bar in enumerate(bars):
        y = gap + i * (row_h + gap)
        w = round(plot * bar.value / top) if bar.value else 0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_h * 0.7:.1f}" text-anchor="end" font-size="13" '
            f'fill="#1b2430">{escape(bar.label)}</text>'
        )
        rect = f'<rect x="{label_width}" y="{y}" width="{max(w, 1)}" height="{row_h}" fill="{BAR_COLOUR}"/>'
        if bar.stalled:
            sw = round(plot * bar.stalled / top)
            rect += (
                f'<rect x="{label_width}" y="{y + row_h - 7}" width="{max(sw, 1)}" height="7" '
                f'fill="{STALL_COLOUR}"/>'
            )
        total = f"{bar.value:,}".replace(",", ".")
        parts.append(_link(bar.href, rect, f"{bar.label}: {total}"))
        value = total
        if bar.stalled is not None:
            value += f" ({bar.stalled:,})".replace(",", ".")
        # The label links where the bar does (all agreements at the stage); the stalled subset links
        # from the table beside the chart.
        parts.append(
            _link(
                bar.href,
                f'<text x="{label_width + w + 6}" y="{y + row_h * 0.7:.1f}" font-size="13" '
                f'fill="#1b2430">{escape(value)}</text>',
                f"{bar.label}: {value}",
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic part above is escaped


def tile_map(tiles: list[Tile], title: str, cell: int = 56, legend: list[tuple[str, str]] | None = None) -> SafeString:
    """One square per province on a rough geographic grid, coloured by share, the count written inside."""
    cols = max([t.col for t in tiles] + [0]) + 1
    rows = max([t.row for t in tiles] + [0]) + 1
    legend = legend or []
    legend_h = 28 if legend else 0
    width, height = cols * cell + 4, rows * cell + 4 + legend_h
    parts = [_open_svg(width, height, title, "tile-map"), f"<title>{escape(title)}</title>"]
    for t in tiles:
        x, y = 2 + t.col * cell, 2 + t.row * cell
        fill = PALETTE[palette_index(t.share)]
        ink = text_colour(fill)
        share = "" if t.share is None else f" · {percent(t.share)}"
        inner = (
            f'<rect x="{x}" y="{y}" width="{cell - 3}" height="{cell - 3}" rx="4" fill="{fill}" stroke="#8a94a3"/>'
            f"<title>{escape(t.label)}: {t.value}{share}</title>"
            f'<text x="{x + (cell - 3) / 2:.1f}" y="{y + 16}" text-anchor="middle" font-size="10" '
            f'fill="{ink}">{escape(t.code)}</text>'
            f'<text x="{x + (cell - 3) / 2:.1f}" y="{y + 34}" text-anchor="middle" font-size="14" font-weight="700" '
            f'fill="{ink}">{t.value}</text>'
        )
        parts.append(_link(t.href, inner, f"{t.label}: {t.value}{share}"))
    x = 2
    for colour, label in legend:
        parts.append(
            f'<rect x="{x}" y="{height - 22}" width="14" height="14" fill="{colour}" stroke="#8a94a3"/>'
            f'<text x="{x + 18}" y="{height - 10}" font-size="11" fill="#1b2430">{escape(label)}</text>'
        )
        x += 18 + 7 * len(label) + 14
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic part above is escaped


def share_legend() -> list[tuple[str, str]]:
    steps = len(PALETTE) - 1
    legend = [(PALETTE[0], "0%")]
    for i in range(1, steps + 1):
        low, high = round((i - 1) * 100 / steps), round(i * 100 / steps)
        legend.append((PALETTE[i], format_html("{}–{}%", low, high)))
    return legend


PLAN_COLOUR = "#8a94a3"


def progress_chart(*, baseline: tuple, target: tuple, actuals: list[tuple], title: str, description: str,
                   labels: dict[str, str], width: int = 320, height: int = 132) -> SafeString:
    """An indicator's values over time, small: the baseline and the target (each a (date, value)) joined by a dashed
    line, the way planned; the actual values (date, value) as dots joined by a line. The numbers are written at the
    baseline, the target and the latest value (``labels``: "baseline", "target", "latest", as the page writes them),
    and ``description`` says every value in words (the text alternative): it reads without colour or sight."""
    left, right, top, bottom = 8, 8, 18, 22
    points = [baseline, target, *actuals]
    first = min(day for day, _v in points).toordinal()
    last = max(day for day, _v in points).toordinal()
    low = min(value for _d, value in points)
    high = max(value for _d, value in points)
    span_x = max(last - first, 1)
    span_y = (high - low) or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(point) -> tuple[float, float]:
        day, value = point
        x = left + plot_w * (day.toordinal() - first) / span_x
        y = top + plot_h * (1 - (value - low) / span_y) if high != low else top + plot_h / 2
        return round(x, 1), round(y, 1)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'class="progress-chart" preserveAspectRatio="xMinYMid meet">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        f'<line x1="{left}" y1="{height - bottom + 4}" x2="{width - right}" y2="{height - bottom + 4}" '
        f'stroke="#c9ced6"/>',
    ]
    (bx, by), (tx, ty) = xy(baseline), xy(target)
    parts.append(f'<line x1="{bx}" y1="{by}" x2="{tx}" y2="{ty}" stroke="{PLAN_COLOUR}" stroke-width="2" '
                 f'stroke-dasharray="5 4"/>')
    parts.append(f'<circle cx="{bx}" cy="{by}" r="4" fill="#ffffff" stroke="{PLAN_COLOUR}" stroke-width="2"/>')
    parts.append(f'<rect x="{tx - 4}" y="{ty - 4}" width="8" height="8" fill="{PLAN_COLOUR}"/>')
    if actuals:
        line = " ".join(f"{x},{y}" for x, y in (xy(p) for p in [baseline, *actuals]))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{BAR_COLOUR}" stroke-width="2.5"/>')
        for point in actuals:
            x, y = xy(point)
            parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{BAR_COLOUR}"/>')
    # The numbers, inside the drawing: the baseline's at the left edge, the target's at the right, the latest above
    # its dot (moved in from the edges so that they stay readable).
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="11" fill="#1b2430">{escape(labels["baseline"])}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 6}" font-size="11" text-anchor="end" '
                 f'fill="#1b2430">{escape(labels["target"])}</text>')
    if actuals and labels.get("latest"):
        x, y = xy(actuals[-1])
        anchor = "end" if x > width * 0.7 else "start" if x < width * 0.3 else "middle"
        parts.append(f'<text x="{x}" y="{max(y - 8, 11)}" font-size="12" font-weight="700" text-anchor="{anchor}" '
                     f'fill="{BAR_COLOUR}">{escape(labels["latest"])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic part above is escaped
