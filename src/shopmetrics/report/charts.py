"""Charts as inline SVG, written by hand: no plotting library, no external resources.

Three kinds cover the weekly report:

* :class:`TrendChart`: a daily series over a shaded expected band (e.g. the seasonal
  expectation), with the days outside the band marked.
* :class:`BarChart`: horizontal bars with optional interval whiskers and a reference
  line (funnel steps, ROAS by source with break-even at 1, movers up and down around 0).
* :class:`LineChart`: several series over the same x values, some dashed (DSR scores
  over time with the peer average dashed).

Every chart has a title, axis labels, ``role="img"`` with an ``aria-label`` and an SVG
``<title>``/``<desc>`` for screen readers, and a ``viewBox`` so it scales to the width of
a phone. All text (labels, names, titles) is escaped; the output is well-formed XML.

Examples:
    >>> from shopmetrics.report.charts import BarChart
    >>> chart = BarChart("ROAS by source", labels=["search", "feed"], values=[3.2, 0.8],
    ...                  reference=1.0, x_label="ROAS (sales / spend)", metric="roas")
    >>> svg = chart.to_svg()
    >>> svg.startswith("<svg") and 'role="img"' in svg and "<title>ROAS by source</title>" in svg
    True
    >>> nice_ticks(0, 97)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from shopmetrics.display import is_percent, plain
from shopmetrics.errors import ShopmetricsError
from shopmetrics.report import labels

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BarChart", "Chart", "LineChart", "Series", "TrendChart", "nice_ticks"]

WIDTH = 420
"""Width of every chart in SVG user units (the viewBox); it scales to the container."""
FONT = 12
FONTS = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans CJK SC, PingFang SC, sans-serif"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
"""Okabe-Ito colours, distinguishable with the common colour-vision deficiencies."""
UP, DOWN, ALERT, BAND, GRID, INK, MUTED = (
    "#0072B2",
    "#D55E00",
    "#D55E00",
    "#CFE3F3",
    "#E4E4E4",
    "#222222",
    "#666666",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _e(value: Any) -> str:
    """Escape text for SVG/HTML text and attributes (and drop XML-invalid control chars)."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _floats(values: Sequence[Any] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(_num(v) for v in values)


def _fin(v: float) -> bool:
    return math.isfinite(v)


def _text_width(s: str, size: float = FONT) -> float:
    """Rough rendered width: CJK characters are about one em, others about 0.58 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in s)


def _truncate(s: str, width: float, size: float = FONT) -> str:
    if _text_width(s, size) <= width:
        return s
    out = ""
    for ch in s:
        if _text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…"


def _f(x: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _nice(x: float) -> float:
    """Heckbert's nice number (rounded): 1, 2, 5 or 10 times a power of ten."""
    exp = math.floor(math.log10(x))
    f = x / 10**exp
    nf = 1.0 if f < 1.5 else 2.0 if f < 3 else 5.0 if f < 7 else 10.0
    return float(nf * 10.0**exp)


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
    """
    if not (_fin(lo) and _fin(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = 1.0 if lo == 0 else abs(lo) * 0.1
        lo, hi = lo - pad, hi + pad
    step = _nice((hi - lo) / max(target, 1))
    start = math.floor(lo / step + 1e-9)
    end = math.ceil(hi / step - 1e-9)
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return [round(i * step, digits) + 0.0 for i in range(start, end + 1)]


def _tick_text(v: float, ticks: Sequence[float], percent: bool) -> str:
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


def _decimals(values: Sequence[float]) -> int:
    """Decimals for value labels: none when every value is whole, else two."""
    return 0 if all(float(v).is_integer() for v in values if _fin(v)) else 2


def _value_text(v: float, percent: bool, decimals: int = 2) -> str:
    if not _fin(v):
        return "–"
    if percent:
        return f"{v * 100:.1f}%"
    return f"{v:,.{decimals}f}"


def _anchor_x(x: float, text: str) -> float:
    """Centre of a middle-anchored label, moved inwards so it is not cut at the edges."""
    half = _text_width(text) / 2 + 2
    return min(max(x, half), WIDTH - half)


def _x_text(x: Any) -> str:
    if isinstance(x, dt.datetime | dt.date):
        return x.strftime("%m-%d")
    s = str(x)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", s):
        return s[5:10]
    return s


@dataclasses.dataclass(frozen=True)
class Chart(abc.ABC):
    """Base of every chart.

    Attributes:
        title: The chart's title (shown, and read out by screen readers).
        x_label: Label of the horizontal axis.
        y_label: Label of the vertical axis (for bars: of the value axis).
        metric: The metric shown; drives number formatting (a rate is shown as a
            percentage, as in tables).
    """

    title: str
    x_label: str = ""
    y_label: str = ""
    metric: str = ""

    kind: ClassVar[str] = "chart"

    @property
    def percent(self) -> bool:
        """Whether values are proportions (formatted as percentages)."""
        return bool(self.metric) and is_percent(self.metric)

    @abc.abstractmethod
    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        """The chart as an ``<svg>`` element (a string).

        Args:
            lang: Language of the fixed legend words (``"en"`` or ``"zh"``).
            show_title: Draw the title inside the SVG (the HTML report shows it as a
                caption instead; the SVG ``<title>`` is always there).
        """

    def summary(self, lang: str = "en") -> str:
        """A one-sentence description of the data, for ``<desc>``."""
        return self.title

    def _values(self) -> list[float]:
        """Every plotted number (drives the axis range and label decimals)."""
        return []

    @property
    def _dec(self) -> int:
        return _decimals(self._values())

    def to_frame(self) -> pd.DataFrame:
        """The data behind the chart as a table."""
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(self._columns())

    def _columns(self) -> dict[str, list[Any]]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict: kind, labels and data."""
        return {
            "kind": self.kind,
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "metric": self.metric,
            "data": {k: plain(v) for k, v in self._columns().items()},
        }

    # shared drawing -----------------------------------------------------
    def _open(self, height: float, lang: str, show_title: bool) -> list[str]:
        title = _e(self.title)
        parts = [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" class="sm-chart" role="img" '
                f'aria-label="{title}" viewBox="0 0 {WIDTH} {_f(height)}" width="100%" '
                f'preserveAspectRatio="xMidYMid meet" style="max-width:100%;height:auto" '
                f'font-family="{FONTS}" font-size="{FONT}">'
            ),
            f"<title>{title}</title>",
            f"<desc>{_e(self.summary(lang))}</desc>",
            f'<rect width="{WIDTH}" height="{_f(height)}" fill="#ffffff"/>',
        ]
        if show_title:
            parts.append(
                f'<text x="8" y="18" font-size="14" font-weight="600" fill="{INK}">'
                f"{_e(_truncate(self.title, WIDTH - 16, 14))}</text>"
            )
        return parts

    def _top(self, show_title: bool) -> float:
        return 26.0 if show_title else 4.0

    def _legend(self, items: Sequence[tuple[str, str]], y: float) -> tuple[list[str], float]:
        """Legend swatches (``(svg swatch at 0,0, text)``), wrapped across lines."""
        out: list[str] = []
        x = 8.0
        for swatch, text in items:
            w = 26 + _text_width(text) + 14
            if x + w > WIDTH - 8 and x > 8:
                x, y = 8.0, y + 18
            out.append(
                f'<g transform="translate({_f(x)},{_f(y)})">{swatch}'
                f'<text x="24" y="4" fill="{INK}">{_e(text)}</text></g>'
            )
            x += w
        return out, y + 18

    def _y_axis(
        self, ticks: Sequence[float], ymap: Any, x0: float, x1: float, y_top: float
    ) -> list[str]:
        out = []
        for t in ticks:
            y = ymap(t)
            out.append(
                f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y)}" y2="{_f(y)}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{_f(x0 - 6)}" y="{_f(y + 4)}" text-anchor="end" fill="{MUTED}">'
                f"{_e(_tick_text(t, ticks, self.percent))}</text>"
            )
        if self.y_label:
            out.append(
                f'<text x="8" y="{_f(y_top - 8)}" fill="{MUTED}">'
                f"{_e(_truncate(self.y_label, WIDTH - 16))}</text>"
            )
        return out

    def _x_axis(
        self, xs: Sequence[Any], xmap: Any, y_base: float, x0: float, x1: float
    ) -> list[str]:
        n = len(xs)
        out = [
            (
                f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y_base)}" y2="{_f(y_base)}" '
                f'stroke="{MUTED}" stroke-width="1"/>'
            )
        ]
        if n:
            labels = [_x_text(x) for x in xs]
            widest = max(_text_width(s) for s in labels) + 10
            fit = max(1, int((x1 - x0) // widest))
            every = max(1, math.ceil(n / fit))
            for i in range(0, n, every):
                x = xmap(i)
                out.append(
                    f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y_base)}" y2="{_f(y_base + 4)}" '
                    f'stroke="{MUTED}"/>'
                    f'<text x="{_f(_anchor_x(x, labels[i]))}" y="{_f(y_base + 17)}" '
                    f'text-anchor="middle" fill="{MUTED}">{_e(labels[i])}</text>'
                )
        if self.x_label:
            out.append(
                f'<text x="{_f((x0 + x1) / 2)}" y="{_f(y_base + 36)}" text-anchor="middle" '
                f'fill="{MUTED}">{_e(_truncate(self.x_label, WIDTH - 16))}</text>'
            )
        return out

    def _left_margin(self, ticks: Sequence[float]) -> float:
        widest = max(_text_width(_tick_text(t, ticks, self.percent)) for t in ticks)
        return max(36.0, widest + 14)


def _segments(values: Sequence[float]) -> list[list[int]]:
    """Runs of consecutive indices with finite values (gaps split lines)."""
    runs: list[list[int]] = []
    cur: list[int] = []
    for i, v in enumerate(values):
        if _fin(v):
            cur.append(i)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def _check_len(what: str, n: int, **seqs: Sequence[Any] | None) -> None:
    for name, s in seqs.items():
        if s is not None and len(s) != n:
            msg = f"{what}: {name!r} has {len(s)} values but there are {n} x values; give one per x"
            raise ShopmetricsError(msg)


@dataclasses.dataclass(frozen=True)
class TrendChart(Chart):
    """A daily (or weekly) series over a shaded expected band.

    Attributes:
        x: The x values (dates or labels), in order.
        y: The observed values (``None``/NaN leave a gap).
        low: Lower edge of the expected band (optional).
        high: Upper edge of the expected band (optional).
        expected: The expected value, drawn dashed (optional).

    Examples:
        >>> import datetime as dt
        >>> days = [dt.date(2026, 11, 16) + dt.timedelta(d) for d in range(7)]
        >>> c = TrendChart("Daily visitors", x=days, y=[120, 130, 125, 90, 128, 140, 135],
        ...                low=[110] * 7, high=[150] * 7, y_label="Visitors", metric="visitors")
        >>> c.outside()
        [3]
    """

    x: Sequence[Any] = ()
    y: Sequence[float] = ()
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    expected: Sequence[float] | None = None

    kind: ClassVar[str] = "trend"

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", tuple(self.x))
        for name in ("y", "low", "high", "expected"):
            object.__setattr__(self, name, _floats(getattr(self, name)))
        _check_len(
            self.title, len(self.x), y=self.y, low=self.low, high=self.high, expected=self.expected
        )

    def _values(self) -> list[float]:
        return [v for s in (self.y, self.low, self.high, self.expected) if s for v in s if _fin(v)]

    def outside(self) -> list[int]:
        """Indices of the points outside the band (below ``low`` or above ``high``)."""
        out = []
        for i, v in enumerate(self.y):
            lo = self.low[i] if self.low is not None else math.nan
            hi = self.high[i] if self.high is not None else math.nan
            if _fin(v) and ((_fin(lo) and v < lo) or (_fin(hi) and v > hi)):
                out.append(i)
        return out

    def summary(self, lang: str = "en") -> str:
        n_out = len(self.outside())
        first, last = (_x_text(self.x[0]), _x_text(self.x[-1])) if self.x else ("", "")
        if lang == "zh":
            return (
                f"{self.title}：{first} 至 {last} 共 {len(self.x)} 个点，{n_out} 个超出预期区间。"
            )
        return (
            f"{self.title}: {len(self.x)} points from {first} to {last}; "
            f"{n_out} outside the expected range."
        )

    def _columns(self) -> dict[str, list[Any]]:
        cols: dict[str, list[Any]] = {
            self.x_label or "x": list(self.x),
            self.metric or "value": list(self.y),
        }
        for name in ("low", "high", "expected"):
            vals = getattr(self, name)
            if vals is not None:
                cols[name] = list(vals)
        return cols

    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        top = self._top(show_title)
        band = self.low is not None and self.high is not None
        legend_items = [
            (
                f'<line x1="0" x2="18" y1="0" y2="0" stroke="{UP}" stroke-width="2.5"/>',
                labels.text("actual", lang),
            ),
        ]
        if band:
            legend_items.append(
                (
                    f'<rect x="0" y="-6" width="18" height="12" fill="{BAND}"/>',
                    labels.text("expected_band", lang),
                )
            )
            legend_items.append(
                (
                    f'<circle cx="9" cy="0" r="4.5" fill="{ALERT}"/>',
                    labels.text("outside_band", lang),
                )
            )
        legend, y_after = self._legend(legend_items, top + 10)
        y_top = y_after + (18 if self.y_label else 6)
        plot_h = 200.0
        y_base = y_top + plot_h
        height = y_base + (44 if self.x_label else 28)
        values = self._values()
        ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
        x0, x1 = self._left_margin(ticks), WIDTH - 14.0
        lo_t, hi_t = ticks[0], ticks[-1]
        n = len(self.x)

        def ymap(v: float) -> float:
            return y_base - (v - lo_t) / (hi_t - lo_t) * plot_h

        def xmap(i: int) -> float:
            return (x0 + x1) / 2 if n <= 1 else x0 + i * (x1 - x0) / (n - 1)

        parts = self._open(height, lang, show_title)
        parts.extend(legend)
        parts.extend(self._y_axis(ticks, ymap, x0, x1, y_top))
        if band:
            assert self.low is not None
            assert self.high is not None
            both = [
                min(a, b) if _fin(a) and _fin(b) else math.nan
                for a, b in zip(self.low, self.high, strict=True)
            ]
            for run in _segments(both):
                pts = [(xmap(i), ymap(self.high[i])) for i in run]
                pts += [(xmap(i), ymap(self.low[i])) for i in reversed(run)]
                parts.append(
                    '<polygon class="band" fill="'
                    + BAND
                    + '" points="'
                    + " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
                    + '"/>'
                )
        if self.expected is not None:
            exp = self.expected
            for run in _segments(exp):
                parts.append(
                    f'<polyline fill="none" stroke="{MUTED}" stroke-width="1.5" '
                    'stroke-dasharray="5 4" points="'
                    + " ".join(f"{_f(xmap(i))},{_f(ymap(exp[i]))}" for i in run)
                    + '"/>'
                )
        for run in _segments(self.y):
            parts.append(
                f'<polyline class="series" fill="none" stroke="{UP}" stroke-width="2.5" '
                'stroke-linejoin="round" points="'
                + " ".join(f"{_f(xmap(i))},{_f(ymap(self.y[i]))}" for i in run)
                + '"/>'
            )
        flagged = set(self.outside())
        for i, v in enumerate(self.y):
            if not _fin(v):
                continue
            tip = f"{_x_text(self.x[i])}: {_value_text(v, self.percent, self._dec)}"
            if band:
                assert self.low is not None
                assert self.high is not None
                tip += (
                    f" ({labels.text('expected_band', lang)} "
                    f"{_value_text(self.low[i], self.percent, self._dec)}–"
                    f"{_value_text(self.high[i], self.percent, self._dec)})"
                )
            r, fill = (4.5, ALERT) if i in flagged else (2.5, UP)
            cls = ' class="outside"' if i in flagged else ""
            parts.append(
                f'<circle{cls} cx="{_f(xmap(i))}" cy="{_f(ymap(v))}" r="{r}" fill="{fill}">'
                f"<title>{_e(tip)}</title></circle>"
            )
        parts.extend(self._x_axis(self.x, xmap, y_base, x0, x1))
        parts.append("</svg>")
        return "".join(parts)


@dataclasses.dataclass(frozen=True)
class BarChart(Chart):
    """Horizontal bars, one per label, with optional interval whiskers.

    Bars start at 0. Values above the ``reference`` (or above 0 when no reference is
    given) are blue, values below it orange-red, so movers up and down and sources
    below break-even read at a glance. Each label sits on its own line above its bar,
    so long product names stay readable on a phone.

    Attributes:
        labels: One label per bar (product names, sources, funnel steps, ...).
        values: The bar lengths.
        low: Lower ends of the whiskers (optional).
        high: Upper ends of the whiskers (optional).
        reference: A dashed reference line, e.g. ``1.0`` for ROAS break-even.

    Examples:
        >>> c = BarChart("Movers", labels=["A", "B"], values=[0.12, -0.08],
        ...              low=[0.05, -0.15], high=[0.2, -0.01], metric="rel_visitors")
        >>> c.to_frame().columns.tolist()
        ['label', 'rel_visitors', 'low', 'high']
    """

    labels: Sequence[str] = ()
    values: Sequence[float] = ()
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    reference: float | None = None

    kind: ClassVar[str] = "bar"

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(str(v) for v in self.labels))
        for name in ("values", "low", "high"):
            object.__setattr__(self, name, _floats(getattr(self, name)))
        _check_len(self.title, len(self.labels), values=self.values, low=self.low, high=self.high)

    def summary(self, lang: str = "en") -> str:
        items = "; ".join(
            f"{lab}: {_value_text(v, self.percent, self._dec)}"
            for lab, v in zip(self.labels[:10], self.values[:10], strict=True)
        )
        more = len(self.labels) - 10
        tail = "" if more <= 0 else (f"; 另有 {more} 项" if lang == "zh" else f"; {more} more")
        return f"{self.title}: {items}{tail}"

    def _columns(self) -> dict[str, list[Any]]:
        cols: dict[str, list[Any]] = {
            "label": list(self.labels),
            self.metric or "value": list(self.values),
        }
        if self.low is not None:
            cols["low"] = list(self.low)
        if self.high is not None:
            cols["high"] = list(self.high)
        return cols

    def _values(self) -> list[float]:
        return [v for s in (self.values, self.low, self.high) if s for v in s if _fin(v)]

    def _value_label(self, i: int) -> str:
        s = _value_text(self.values[i], self.percent, self._dec)
        if (
            self.low is not None
            and self.high is not None
            and (_fin(self.low[i]) or _fin(self.high[i]))
        ):
            s += (
                f" [{_value_text(self.low[i], self.percent, self._dec)}, "
                f"{_value_text(self.high[i], self.percent, self._dec)}]"
            )
        return s

    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        top = self._top(show_title) + (20 if self.y_label else 6)
        row_h = 38.0
        n = len(self.labels)
        plot_top = top + 4
        plot_bottom = plot_top + n * row_h
        height = plot_bottom + (44 if self.x_label else 28)
        values = [*self._values(), 0.0]
        if self.reference is not None and _fin(self.reference):
            values.append(self.reference)
        ticks = nice_ticks(min(values), max(values))
        x0, x1 = 10.0, WIDTH - 14.0
        lo_t, hi_t = ticks[0], ticks[-1]
        threshold = self.reference if self.reference is not None else 0.0

        def xmap(v: float) -> float:
            return x0 + (v - lo_t) / (hi_t - lo_t) * (x1 - x0)

        parts = self._open(height, lang, show_title)
        if self.y_label:
            parts.append(
                f'<text x="8" y="{_f(top - 6)}" fill="{MUTED}">'
                f"{_e(_truncate(self.y_label, WIDTH - 16))}</text>"
            )
        for t in ticks:
            x = xmap(t)
            tick = _tick_text(t, ticks, self.percent)
            parts.append(
                f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(plot_top)}" y2="{_f(plot_bottom)}" '
                f'stroke="{MUTED if t == 0 else GRID}" stroke-width="1"/>'
                f'<text x="{_f(_anchor_x(x, tick))}" y="{_f(plot_bottom + 16)}" '
                f'text-anchor="middle" fill="{MUTED}">{_e(tick)}</text>'
            )
        zero = xmap(min(max(0.0, lo_t), hi_t))
        for i, (lab, v) in enumerate(zip(self.labels, self.values, strict=True)):
            y = plot_top + i * row_h
            vtext = self._value_label(i)
            room = x1 - x0 - _text_width(vtext) - 12
            parts.append(f'<g class="bar"><title>{_e(lab)}: {_e(vtext)}</title>')
            parts.append(
                f'<text x="{_f(x0 + 3)}" y="{_f(y + 13)}" fill="{INK}">'
                f"{_e(_truncate(lab, room))}</text>"
                f'<text x="{_f(x1)}" y="{_f(y + 13)}" text-anchor="end" fill="{INK}" '
                f'font-weight="600">{_e(vtext)}</text>'
            )
            if _fin(v):
                xa, xb = sorted((zero, xmap(v)))
                colour = UP if v >= threshold else DOWN
                parts.append(
                    f'<rect x="{_f(xa)}" y="{_f(y + 19)}" width="{_f(max(xb - xa, 0.5))}" '
                    f'height="12" fill="{colour}" data-value="{_e(repr(v))}"/>'
                )
            if self.low is not None and self.high is not None:
                lo, hi = self.low[i], self.high[i]
                if _fin(lo) and _fin(hi):
                    cy = y + 25
                    xl, xh = xmap(lo), xmap(hi)
                    parts.append(
                        f'<path class="whisker" d="M{_f(xl)} {_f(cy)}H{_f(xh)}'
                        f'M{_f(xl)} {_f(cy - 5)}V{_f(cy + 5)}M{_f(xh)} {_f(cy - 5)}V{_f(cy + 5)}" '
                        f'stroke="{INK}" stroke-width="1.3" fill="none"/>'
                    )
            parts.append("</g>")
        if self.reference is not None and _fin(self.reference):
            xr = xmap(self.reference)
            parts.append(
                f'<line class="reference" x1="{_f(xr)}" x2="{_f(xr)}" y1="{_f(plot_top - 2)}" '
                f'y2="{_f(plot_bottom)}" stroke="{INK}" stroke-width="1.2" stroke-dasharray="4 3"/>'
            )
        if self.x_label:
            parts.append(
                f'<text x="{_f((x0 + x1) / 2)}" y="{_f(plot_bottom + 34)}" text-anchor="middle" '
                f'fill="{MUTED}">{_e(_truncate(self.x_label, WIDTH - 16))}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)


@dataclasses.dataclass(frozen=True)
class Series:
    """One line of a :class:`LineChart`.

    Attributes:
        name: Shown in the legend.
        y: One value per x (``None``/NaN leave a gap).
        dashed: Draw dashed (e.g. a peer benchmark).
    """

    name: str
    y: Sequence[float]
    dashed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "y", _floats(self.y))


@dataclasses.dataclass(frozen=True)
class LineChart(Chart):
    """Several series over the same x values (e.g. DSR scores with a dashed peer line).

    Attributes:
        x: The x values (dates or period labels), in order.
        series: The lines; dashed ones are drawn in the same colour family, dashed.

    Examples:
        >>> c = LineChart("DSR", x=["2026-09", "2026-10", "2026-11"],
        ...               series=[Series("item", [4.8, 4.7, 4.75]),
        ...                       Series("peer average", [4.7, 4.7, 4.7], dashed=True)])
        >>> c.to_svg().count("<polyline")
        2
    """

    x: Sequence[Any] = ()
    series: Sequence[Series] = ()

    kind: ClassVar[str] = "line"

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", tuple(self.x))
        object.__setattr__(self, "series", tuple(self.series))
        for s in self.series:
            _check_len(f"{self.title} / {s.name}", len(self.x), values=s.y)

    def _values(self) -> list[float]:
        return [v for s in self.series for v in s.y if _fin(v)]

    def summary(self, lang: str = "en") -> str:
        def last(s: Series) -> str:
            fin = [v for v in s.y if _fin(v)]
            return _value_text(fin[-1], self.percent, self._dec) if fin else "–"

        parts = "; ".join(f"{s.name} {last(s)}" for s in self.series)
        if lang == "zh":
            return f"{self.title}：{len(self.x)} 个周期，最新值 {parts}"
        return f"{self.title}: {len(self.x)} periods; latest {parts}"

    def _columns(self) -> dict[str, list[Any]]:
        cols: dict[str, list[Any]] = {self.x_label or "x": list(self.x)}
        for s in self.series:
            cols[s.name] = list(s.y)
        return cols

    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        top = self._top(show_title)
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(self.series))]
        items = []
        for s, c in zip(self.series, colours, strict=True):
            dash = ' stroke-dasharray="5 4"' if s.dashed else ""
            items.append(
                (
                    f'<line x1="0" x2="18" y1="0" y2="0" stroke="{c}" stroke-width="2.5"{dash}/>',
                    s.name,
                )
            )
        legend, y_after = self._legend(items, top + 10)
        y_top = y_after + (18 if self.y_label else 6)
        plot_h = 200.0
        y_base = y_top + plot_h
        height = y_base + (44 if self.x_label else 28)
        values = self._values()
        ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
        x0, x1 = self._left_margin(ticks), WIDTH - 14.0
        lo_t, hi_t = ticks[0], ticks[-1]
        n = len(self.x)

        def ymap(v: float) -> float:
            return y_base - (v - lo_t) / (hi_t - lo_t) * plot_h

        def xmap(i: int) -> float:
            return (x0 + x1) / 2 if n <= 1 else x0 + i * (x1 - x0) / (n - 1)

        parts = self._open(height, lang, show_title)
        parts.extend(legend)
        parts.extend(self._y_axis(ticks, ymap, x0, x1, y_top))
        for s, c in zip(self.series, colours, strict=True):
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            parts.append(f'<g class="series"><title>{_e(s.name)}</title>')
            for run in _segments(s.y):
                parts.append(
                    f'<polyline fill="none" stroke="{c}" stroke-width="2.2"{dash} '
                    'stroke-linejoin="round" points="'
                    + " ".join(f"{_f(xmap(i))},{_f(ymap(s.y[i]))}" for i in run)
                    + '"/>'
                )
            if not s.dashed:
                for i, v in enumerate(s.y):
                    if _fin(v):
                        parts.append(
                            f'<circle cx="{_f(xmap(i))}" cy="{_f(ymap(v))}" r="2.5" fill="{c}">'
                            f"<title>{_e(s.name)} {_e(_x_text(self.x[i]))}: "
                            f"{_e(_value_text(v, self.percent, self._dec))}</title></circle>"
                        )
            parts.append("</g>")
        parts.extend(self._x_axis(self.x, xmap, y_base, x0, x1))
        parts.append("</svg>")
        return "".join(parts)
