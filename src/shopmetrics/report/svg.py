"""Low-level SVG drawing for the charts: sizes, colours, escaping, text metrics, ticks, axes.

Everything here writes or measures pieces of an ``<svg>`` string; the chart classes in
:mod:`shopmetrics.report.charts` put them together. Text is escaped with :func:`esc`
(XML-invalid control characters dropped), so the output is well-formed XML.

Examples:
    >>> nice_ticks(0, 97)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    >>> coord(12.345), coord(7.0)
    ('12.3', '7')
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from shopmetrics.display import CONTROL_CHARS

WIDTH = 420
"""Width of every chart in SVG user units (the viewBox); it scales to the container."""
FONT = 12
FONTS = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans CJK SC, PingFang SC, sans-serif"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
"""Okabe-Ito colours, distinguishable with the common colour-vision deficiencies."""
UP = "#0072B2"
"""Bars at or above the reference, the observed line, points inside the band."""
DOWN = "#D55E00"
"""Bars below the reference."""
ALERT = "#D55E00"
"""Points outside the expected band."""
BAND = "#CFE3F3"
"""The expected band."""
WEEK = "#FFF1C2"
"""The reporting week, shaded on the trend."""
GRID = "#E4E4E4"
INK = "#222222"
MUTED = "#666666"
"""Axes, tick labels, the expected line."""


def esc(value: Any) -> str:
    """Escape text for SVG/HTML text and attributes (and drop XML-invalid control chars)."""
    return html.escape(CONTROL_CHARS.sub("", str(value)), quote=True)


def to_float(v: Any) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def to_floats(values: Sequence[Any] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(to_float(v) for v in values)


def finite(v: float) -> bool:
    return math.isfinite(v)


def text_width(s: str, size: float = FONT) -> float:
    """Rough rendered width: CJK characters are about one em, others about 0.58 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in s)


def truncate(s: str, width: float, size: float = FONT) -> str:
    if text_width(s, size) <= width:
        return s
    out = ""
    for ch in s:
        if text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…"


def coord(x: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _nice(x: float) -> float:
    """Heckbert's nice number (rounded): 1, 2, 5 or 10 times a power of ten."""
    exp = math.floor(math.log10(x))
    f = x / 10**exp
    nf = 1.0 if f < 1.5 else 2.0 if f < 3 else 5.0 if f < 7 else 10.0
    return float(nf * 10.0**exp)


_TINY = 1e-290
"""Spans below this are treated as one value (a tenth of a subnormal is zero)."""


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` with about ``target`` intervals.

    The step is 1, 2 or 5 times a power of ten; the first tick is at or below ``lo`` and
    the last at or above ``hi`` (up to a billionth of a step, so float noise such as
    ``1.1 / 0.1 = 11.000000000000002`` adds no extra tick).

    References:
        Heckbert, P. S. (1990). Nice numbers for graph labels. In *Graphics Gems*,
        pp. 61-63, Academic Press.

    Examples:
        >>> nice_ticks(4.61, 4.93)
        [4.6, 4.65, 4.7, 4.75, 4.8, 4.85, 4.9, 4.95]
        >>> nice_ticks(-0.12, 0.3)
        [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3]
        >>> nice_ticks(5e-324, 5e-324)  # a subnormal value: padded by one, not by 10%
        [-1.0, -0.5, 0.0, 0.5, 1.0]
    """
    if not (finite(lo) and finite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if not (hi - lo) / max(target, 1) > _TINY:  # one value, or a span below float range
        pad = abs(lo) * 0.1 if abs(lo) * 0.1 > _TINY else 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice((hi - lo) / max(target, 1))
    start = math.floor(lo / step + 1e-9)
    end = math.ceil(hi / step - 1e-9)
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return [round(i * step, digits) + 0.0 for i in range(start, end + 1)]


def tick_text(v: float, ticks: Sequence[float], percent: bool) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    if percent:
        d = max(0, -math.floor(math.log10(step * 100) + 1e-9)) if step > 0 else 0
        return f"{v * 100:.{d}f}%"
    d = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    big = max(abs(t) for t in ticks)
    if big >= 1e6 and step >= 1e5:
        d6 = max(0, -math.floor(math.log10(step / 1e6) + 1e-9))
        return f"{v / 1e6:,.{d6}f}M"
    return f"{v:,.{d}f}"


def label_decimals(values: Sequence[float]) -> int:
    """Decimals for value labels: none when every value is whole, else two."""
    return 0 if all(float(v).is_integer() for v in values if finite(v)) else 2


def value_text(v: float, percent: bool, decimals: int = 2) -> str:
    if not finite(v):
        return "–"
    if percent:
        return f"{v * 100:.1f}%"
    return f"{v:,.{decimals}f}"


def anchor_x(x: float, text: str) -> float:
    """Centre of a middle-anchored label, moved inwards so it is not cut at the edges."""
    half = text_width(text) / 2 + 2
    return min(max(x, half), WIDTH - half)


def x_text(x: Any) -> str:
    if isinstance(x, dt.datetime | dt.date):
        return x.strftime("%m-%d")
    s = str(x)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", s):
        return s[5:10]
    return s


def segments(values: Sequence[float]) -> list[list[int]]:
    """Runs of consecutive indices with finite values (gaps split lines)."""
    runs: list[list[int]] = []
    cur: list[int] = []
    for i, v in enumerate(values):
        if finite(v):
            cur.append(i)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def open_svg(title: str, desc: str, height: float, show_title: bool) -> list[str]:
    """The ``<svg>`` start tag (scales to its container), ``<title>``, ``<desc>``, background.

    With ``show_title`` the title is also drawn at the top.
    """
    name = esc(title)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="sm-chart" role="img" '
            f'aria-label="{name}" viewBox="0 0 {WIDTH} {coord(height)}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" style="max-width:100%;height:auto" '
            f'font-family="{FONTS}" font-size="{FONT}">'
        ),
        f"<title>{name}</title>",
        f"<desc>{esc(desc)}</desc>",
        f'<rect width="{WIDTH}" height="{coord(height)}" fill="#ffffff"/>',
    ]
    if show_title:
        parts.append(
            f'<text x="8" y="18" font-size="14" font-weight="600" fill="{INK}">'
            f"{esc(truncate(title, WIDTH - 16, 14))}</text>"
        )
    return parts


def draw_legend(items: Sequence[tuple[str, str]], y: float) -> tuple[list[str], float]:
    """Legend swatches (``(svg swatch at 0,0, text)``), wrapped across lines; and the y below."""
    out: list[str] = []
    x = 8.0
    for swatch, text in items:
        w = 26 + text_width(text) + 14
        if x + w > WIDTH - 8 and x > 8:
            x, y = 8.0, y + 18
        out.append(
            f'<g transform="translate({coord(x)},{coord(y)})">{swatch}'
            f'<text x="24" y="4" fill="{INK}">{esc(text)}</text></g>'
        )
        x += w
    return out, y + 18


def y_axis(
    ticks: Sequence[float],
    ymap: Callable[[float], float],
    x0: float,
    x1: float,
    y_top: float,
    *,
    percent: bool,
    label: str,
) -> list[str]:
    """Horizontal grid lines with their tick labels, and the axis label above the plot."""
    out = []
    for t in ticks:
        y = ymap(t)
        out.append(
            f'<line x1="{coord(x0)}" x2="{coord(x1)}" y1="{coord(y)}" y2="{coord(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{coord(x0 - 6)}" y="{coord(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{esc(tick_text(t, ticks, percent))}</text>"
        )
    if label:
        out.append(
            f'<text x="8" y="{coord(y_top - 8)}" fill="{MUTED}">'
            f"{esc(truncate(label, WIDTH - 16))}</text>"
        )
    return out


def x_axis(
    xs: Sequence[Any],
    xmap: Callable[[int], float],
    y_base: float,
    x0: float,
    x1: float,
    *,
    label: str,
) -> list[str]:
    """The base line, as many x labels as fit (every k-th), and the axis label below."""
    n = len(xs)
    out = [
        (
            f'<line x1="{coord(x0)}" x2="{coord(x1)}" y1="{coord(y_base)}" y2="{coord(y_base)}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
    ]
    if n:
        texts = [x_text(x) for x in xs]
        widest = max(text_width(s) for s in texts) + 10
        fit = max(1, int((x1 - x0) // widest))
        every = max(1, math.ceil(n / fit))
        right = -math.inf
        for i in range(0, n, every):
            x = xmap(i)
            left, edge = text_extent(anchor_x(x, texts[i]), texts[i], "middle")
            if left < right + 4:
                continue  # would touch the label before it
            right = edge
            out.append(
                f'<line x1="{coord(x)}" x2="{coord(x)}" y1="{coord(y_base)}" '
                f'y2="{coord(y_base + 4)}" stroke="{MUTED}"/>'
                f'<text x="{coord(anchor_x(x, texts[i]))}" y="{coord(y_base + 17)}" '
                f'text-anchor="middle" fill="{MUTED}">{esc(texts[i])}</text>'
            )
    if label:
        out.append(
            f'<text x="{coord((x0 + x1) / 2)}" y="{coord(y_base + 36)}" text-anchor="middle" '
            f'fill="{MUTED}">{esc(truncate(label, WIDTH - 16))}</text>'
        )
    return out


def left_margin(ticks: Sequence[float], percent: bool) -> float:
    """Room for the widest tick label left of the plot."""
    widest = max(text_width(tick_text(t, ticks, percent)) for t in ticks)
    return max(36.0, widest + 14)


def fit_ticks(
    lo: float, hi: float, x0: float, x1: float, percent: bool, target: int = 5
) -> list[float]:
    """Nice ticks over ``[lo, hi]`` whose labels, placed along ``x0``–``x1`` as the axis
    places them (kept inside the chart by :func:`anchor_x`), do not touch.

    The number of intervals is lowered from ``target`` until every label clears the one
    before it by 6 units, so labels such as ``14,000`` and ``16,000`` cannot run together
    (an axis still too narrow leaves out the labels that would touch: :func:`tick_labels`).

    Examples:
        >>> fit_ticks(0, 14404, 10, 406, False)
        [0.0, 5000.0, 10000.0, 15000.0]
    """
    ticks = nice_ticks(lo, hi, target)
    for t in range(target, 0, -1):
        ticks = nice_ticks(lo, hi, t)
        shown = tick_labels(ticks, x0, x1, percent)
        if len(shown) == len(ticks):
            return ticks
    return ticks


def tick_labels(
    ticks: Sequence[float], x0: float, x1: float, percent: bool, gap: float = 6.0
) -> list[tuple[float, float, str]]:
    """``(tick, label x, text)`` of the tick labels that fit: each label centred on its tick
    (moved inwards at the chart's edges), a label that would touch the one before left out."""
    if len(ticks) < 2:
        return [(t, (x0 + x1) / 2, tick_text(t, ticks, percent)) for t in ticks]
    lo_t, hi_t = ticks[0], ticks[-1]
    out: list[tuple[float, float, str]] = []
    right = -math.inf
    for t in ticks:
        text = tick_text(t, ticks, percent)
        x = anchor_x(x0 + (t - lo_t) / (hi_t - lo_t) * (x1 - x0), text)
        left, edge = text_extent(x, text, "middle")
        if left >= right + gap:
            out.append((t, x, text))
            right = edge
    return out


def text_extent(x: float, text: str, anchor: str = "start") -> tuple[float, float]:
    """Left and right edge of a text drawn at ``x`` with ``text-anchor`` ``anchor``."""
    w = text_width(text)
    if anchor == "middle":
        return x - w / 2, x + w / 2
    if anchor == "end":
        return x - w, x
    return x, x + w
