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
The drawing pieces the charts share (sizes, colours, escaping, ticks, axes, legend) are
in :mod:`shopmetrics.report.svg`.

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
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from shopmetrics.display import is_percent, plain
from shopmetrics.errors import ShopmetricsError
from shopmetrics.report import labels
from shopmetrics.report.svg import (
    ALERT,
    BAND,
    DOWN,
    GRID,
    INK,
    MUTED,
    PALETTE,
    UP,
    WEEK,
    WIDTH,
    coord,
    draw_legend,
    esc,
    finite,
    fit_ticks,
    label_decimals,
    left_margin,
    nice_ticks,
    open_svg,
    segments,
    text_width,
    tick_labels,
    to_floats,
    truncate,
    value_text,
    x_axis,
    x_text,
    y_axis,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BarChart", "Chart", "LineChart", "Series", "TrendChart", "nice_ticks"]


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
        return self.title_in(lang)

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` (through the label layer)."""
        return labels.translate(self.title, lang)

    def axis_label(self, text: str, lang: str) -> str:
        """An axis label in ``lang``: a metric code by its label, a sentence translated."""
        if text and labels.has_label(text):
            return labels.label(text, lang)
        return labels.translate(text, lang)

    def _values(self) -> list[float]:
        """Every plotted number (drives the axis range and label decimals)."""
        return []

    @property
    def _dec(self) -> int:
        return label_decimals(self._values())

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

    def _top(self, show_title: bool) -> float:
        return 26.0 if show_title else 4.0

    def _xy_plot(
        self, legend_items: Sequence[tuple[str, str]], n: int, lang: str, show_title: bool
    ) -> _XYPlot:
        """The start of a chart over ``n`` x positions: SVG head, legend, y axis, and the maps.

        The plot is 200 units high under the legend; the y range is the nice ticks around
        every plotted value; x positions are evenly spaced (one point sits in the middle).
        """
        legend, y_after = draw_legend(legend_items, self._top(show_title) + 10)
        y_top = y_after + (18 if self.y_label else 6)
        plot_h = 200.0
        y_base = y_top + plot_h
        height = y_base + (44 if self.x_label else 28)
        values = self._values()
        ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
        x0, x1 = left_margin(ticks, self.percent), WIDTH - 14.0
        lo_t, hi_t = ticks[0], ticks[-1]

        def ymap(v: float) -> float:
            return y_base - (v - lo_t) / (hi_t - lo_t) * plot_h

        def xmap(i: int) -> float:
            return (x0 + x1) / 2 if n <= 1 else x0 + i * (x1 - x0) / (n - 1)

        parts = open_svg(self.title_in(lang), self.summary(lang), height, show_title)
        parts.extend(legend)
        parts.extend(
            y_axis(
                ticks,
                ymap,
                x0,
                x1,
                y_top,
                percent=self.percent,
                label=self.axis_label(self.y_label, lang),
            )
        )
        return _XYPlot(parts, x0, x1, y_base, xmap, ymap)


@dataclasses.dataclass(frozen=True)
class _XYPlot:
    """A started x/y chart: its SVG parts so far, the plot's edges, and the value maps."""

    parts: list[str]
    x0: float
    x1: float
    y_base: float
    xmap: Callable[[int], float]
    ymap: Callable[[float], float]


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
        mark: First and last x of the span to shade as the reporting week; by default,
            with dates on x, the last whole Monday-to-Sunday week.

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
    mark: tuple[Any, Any] | None = None

    kind: ClassVar[str] = "trend"

    def marked(self) -> list[int]:
        """Indices of the points in the reporting week (see ``mark``)."""
        if self.mark is not None:
            a, b = self.mark
            return [i for i, x in enumerate(self.x) if _le(a, x) and _le(x, b)]
        days = [x for x in self.x if isinstance(x, dt.date)]
        if len(days) != len(self.x) or len(days) < 7:
            return []
        for j in range(len(days) - 1, 5, -1):
            run = days[j - 6 : j + 1]
            if days[j].weekday() == 6 and run[0].weekday() == 0 and (days[j] - run[0]).days == 6:
                return list(range(j - 6, j + 1))
        return []

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", tuple(self.x))
        for name in ("y", "low", "high", "expected"):
            object.__setattr__(self, name, to_floats(getattr(self, name)))
        _check_len(
            self.title, len(self.x), y=self.y, low=self.low, high=self.high, expected=self.expected
        )

    def _values(self) -> list[float]:
        return [
            v for s in (self.y, self.low, self.high, self.expected) if s for v in s if finite(v)
        ]

    def outside(self) -> list[int]:
        """Indices of the points outside the band (below ``low`` or above ``high``)."""
        out = []
        for i, v in enumerate(self.y):
            lo = self.low[i] if self.low is not None else math.nan
            hi = self.high[i] if self.high is not None else math.nan
            if finite(v) and ((finite(lo) and v < lo) or (finite(hi) and v > hi)):
                out.append(i)
        return out

    def summary(self, lang: str = "en") -> str:
        n_out = len(self.outside())
        first, last = (x_text(self.x[0]), x_text(self.x[-1])) if self.x else ("", "")
        if lang == "zh":
            return f"{self.title_in(lang)}：{first} 至 {last} 共 {len(self.x)} 个点，{n_out} 个超出预期区间。"
        return (
            f"{self.title_in(lang)}: {len(self.x)} points from {first} to {last}; "
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
        plot = self._xy_plot(legend_items, len(self.x), lang, show_title)
        parts, xmap, ymap = plot.parts, plot.xmap, plot.ymap
        parts.extend(self._week_mark(plot, lang))
        if band:
            assert self.low is not None
            assert self.high is not None
            both = [
                min(a, b) if finite(a) and finite(b) else math.nan
                for a, b in zip(self.low, self.high, strict=True)
            ]
            for run in segments(both):
                pts = [(xmap(i), ymap(self.high[i])) for i in run]
                pts += [(xmap(i), ymap(self.low[i])) for i in reversed(run)]
                parts.append(
                    '<polygon class="band" fill="'
                    + BAND
                    + '" points="'
                    + " ".join(f"{coord(a)},{coord(b)}" for a, b in pts)
                    + '"/>'
                )
        if self.expected is not None:
            exp = self.expected
            for run in segments(exp):
                parts.append(
                    f'<polyline fill="none" stroke="{MUTED}" stroke-width="1.5" '
                    'stroke-dasharray="5 4" points="'
                    + " ".join(f"{coord(xmap(i))},{coord(ymap(exp[i]))}" for i in run)
                    + '"/>'
                )
        for run in segments(self.y):
            parts.append(
                f'<polyline class="series" fill="none" stroke="{UP}" stroke-width="2.5" '
                'stroke-linejoin="round" points="'
                + " ".join(f"{coord(xmap(i))},{coord(ymap(self.y[i]))}" for i in run)
                + '"/>'
            )
        flagged = set(self.outside())
        for i, v in enumerate(self.y):
            if not finite(v):
                continue
            tip = f"{x_text(self.x[i])}: {value_text(v, self.percent, self._dec)}"
            if band:
                assert self.low is not None
                assert self.high is not None
                tip += (
                    f" ({labels.text('expected_band', lang)} "
                    f"{value_text(self.low[i], self.percent, self._dec)}–"
                    f"{value_text(self.high[i], self.percent, self._dec)})"
                )
            r, fill = (4.5, ALERT) if i in flagged else (2.5, UP)
            cls = ' class="outside"' if i in flagged else ""
            parts.append(
                f'<circle{cls} cx="{coord(xmap(i))}" cy="{coord(ymap(v))}" r="{r}" fill="{fill}">'
                f"<title>{esc(tip)}</title></circle>"
            )
        parts.extend(
            x_axis(
                self.x,
                xmap,
                plot.y_base,
                plot.x0,
                plot.x1,
                label=self.axis_label(self.x_label, lang),
            )
        )
        parts.append("</svg>")
        return "".join(parts)

    def _week_mark(self, plot: _XYPlot, lang: str) -> list[str]:
        """The reporting week shaded behind the series, with its label at the top."""
        idx = self.marked()
        if not idx:
            return []
        step = (plot.x1 - plot.x0) / max(len(self.x) - 1, 1)
        xa = max(plot.xmap(idx[0]) - step / 2, plot.x0)
        xb = min(plot.xmap(idx[-1]) + step / 2, plot.x1)
        top = plot.y_base - 200.0
        word = labels.text("report_week", lang)
        tx = min(xa + 3, plot.x1 - text_width(word) - 2)
        rect = (
            f'<rect class="report-week" x="{coord(xa)}" y="{coord(top)}" '
            f'width="{coord(xb - xa)}" height="200" fill="{WEEK}"/>'
        )
        label = (
            f'<text x="{coord(tx)}" y="{coord(top + 12)}" fill="{MUTED}" font-size="11">'
            f"{esc(word)}</text>"
        )
        return [rect, label]


def _le(a: Any, b: Any) -> bool:
    """``a <= b`` for dates, datetimes and their text (compared as ISO text)."""
    try:
        return bool(a <= b)
    except TypeError:
        return str(a)[:10] <= str(b)[:10]


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
            object.__setattr__(self, name, to_floats(getattr(self, name)))
        _check_len(self.title, len(self.labels), values=self.values, low=self.low, high=self.high)

    def summary(self, lang: str = "en") -> str:
        items = "; ".join(
            f"{self.bar_label(lab, lang)}: {value_text(v, self.percent, self._dec)}"
            for lab, v in zip(self.labels[:10], self.values[:10], strict=True)
        )
        more = len(self.labels) - 10
        tail = "" if more <= 0 else (f"; 另有 {more} 项" if lang == "zh" else f"; {more} more")
        return f"{self.title_in(lang)}: {items}{tail}"

    def bar_label(self, lab: str, lang: str) -> str:
        """A bar's label in ``lang``: a source by the store's name, a funnel step by its
        label, data (a product id) as it is."""
        named = labels.value_label("source", lab, lang)
        if named is not None:
            return named
        return labels.label(lab, lang) if labels.has_label(lab) else lab

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
        return [v for s in (self.values, self.low, self.high) if s for v in s if finite(v)]

    def _value_label(self, i: int) -> str:
        s = value_text(self.values[i], self.percent, self._dec)
        if (
            self.low is not None
            and self.high is not None
            and (finite(self.low[i]) or finite(self.high[i]))
        ):
            s += (
                f" [{value_text(self.low[i], self.percent, self._dec)}, "
                f"{value_text(self.high[i], self.percent, self._dec)}]"
            )
        return s

    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        top = self._top(show_title) + (20 if self.y_label else 6)
        row_h = 38.0
        n = len(self.labels)
        plot_top = top + 4
        plot_bottom = plot_top + n * row_h
        height = plot_bottom + (44 if self.x_label else 28) + (16 if self._has_reference else 0)
        values = [*self._values(), 0.0]
        if self.reference is not None and finite(self.reference):
            values.append(self.reference)
        x0, x1 = 10.0, WIDTH - 14.0
        ticks = fit_ticks(min(values), max(values), x0, x1, self.percent)
        lo_t, hi_t = ticks[0], ticks[-1]
        threshold = self.reference if self.reference is not None else 0.0

        def xmap(v: float) -> float:
            return x0 + (v - lo_t) / (hi_t - lo_t) * (x1 - x0)

        parts = open_svg(self.title_in(lang), self.summary(lang), height, show_title)
        if self.y_label:
            parts.append(
                f'<text x="8" y="{coord(top - 6)}" fill="{MUTED}">'
                f"{esc(truncate(self.axis_label(self.y_label, lang), WIDTH - 16))}</text>"
            )
        for t in ticks:
            x = xmap(t)
            parts.append(
                f'<line x1="{coord(x)}" x2="{coord(x)}" y1="{coord(plot_top)}" y2="{coord(plot_bottom)}" '
                f'stroke="{MUTED if t == 0 else GRID}" stroke-width="1"/>'
            )
        for _, lx, tick in tick_labels(ticks, x0, x1, self.percent):
            parts.append(
                f'<text x="{coord(lx)}" y="{coord(plot_bottom + 16)}" '
                f'text-anchor="middle" fill="{MUTED}">{esc(tick)}</text>'
            )
        zero = xmap(min(max(0.0, lo_t), hi_t))
        for i, (code, v) in enumerate(zip(self.labels, self.values, strict=True)):
            lab = self.bar_label(code, lang)
            y = plot_top + i * row_h
            vtext = self._value_label(i)
            room = x1 - x0 - text_width(vtext) - 12
            parts.append(f'<g class="bar"><title>{esc(lab)}: {esc(vtext)}</title>')
            parts.append(
                f'<text x="{coord(x0 + 3)}" y="{coord(y + 13)}" fill="{INK}">'
                f"{esc(truncate(lab, room))}</text>"
                f'<text x="{coord(x1)}" y="{coord(y + 13)}" text-anchor="end" fill="{INK}" '
                f'font-weight="600">{esc(vtext)}</text>'
            )
            if finite(v):
                xa, xb = sorted((zero, xmap(v)))
                colour = UP if v >= threshold else DOWN
                parts.append(
                    f'<rect x="{coord(xa)}" y="{coord(y + 19)}" width="{coord(max(xb - xa, 0.5))}" '
                    f'height="12" fill="{colour}" data-value="{esc(repr(v))}"/>'
                )
            if self.low is not None and self.high is not None:
                lo, hi = self.low[i], self.high[i]
                if finite(lo) and finite(hi):
                    cy = y + 25
                    xl, xh = xmap(lo), xmap(hi)
                    parts.append(
                        f'<path class="whisker" d="M{coord(xl)} {coord(cy)}H{coord(xh)}'
                        f'M{coord(xl)} {coord(cy - 5)}V{coord(cy + 5)}M{coord(xh)} {coord(cy - 5)}V{coord(cy + 5)}" '
                        f'stroke="{INK}" stroke-width="1.3" fill="none"/>'
                    )
            parts.append("</g>")
        if self.reference is not None and finite(self.reference):
            xr = xmap(self.reference)
            parts.append(
                f'<line class="reference" x1="{coord(xr)}" x2="{coord(xr)}" y1="{coord(plot_top - 2)}" '
                f'y2="{coord(plot_bottom)}" stroke="{INK}" stroke-width="1.2" stroke-dasharray="4 3"/>'
            )
            parts.append(self._reference_label(xr, plot_bottom, lang))
        if self.x_label:
            parts.append(
                f'<text x="{coord((x0 + x1) / 2)}" y="{coord(plot_bottom + 34)}" text-anchor="middle" '
                f'fill="{MUTED}">{esc(truncate(self.axis_label(self.x_label, lang), WIDTH - 16))}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)

    @property
    def _has_reference(self) -> bool:
        return self.reference is not None and finite(self.reference)

    def _reference_label(self, xr: float, plot_bottom: float, lang: str) -> str:
        """The reference line's label under the axis: break-even for ROAS, else its value."""
        assert self.reference is not None
        if self.metric == "roas" and self.reference == 1.0:
            word = labels.text("break_even", lang)
        else:
            word = f"{labels.text('reference', lang)} {value_text(self.reference, self.percent, 2)}"
        y = plot_bottom + (50 if self.x_label else 34)
        x = min(max(xr - text_width(word) / 2, 4.0), WIDTH - 4 - text_width(word))
        return (
            f'<text class="reference-label" x="{coord(x)}" y="{coord(y)}" fill="{INK}">'
            f"{esc(word)}</text>"
        )


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
        object.__setattr__(self, "y", to_floats(self.y))


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
        return [v for s in self.series for v in s.y if finite(v)]

    def summary(self, lang: str = "en") -> str:
        def last(s: Series) -> str:
            fin = [v for v in s.y if finite(v)]
            return value_text(fin[-1], self.percent, self._dec) if fin else "–"

        parts = "; ".join(f"{self.series_name(s, lang)} {last(s)}" for s in self.series)
        if lang == "zh":
            return f"{self.title_in(lang)}：{len(self.x)} 个周期，最新值 {parts}"
        return f"{self.title_in(lang)}: {len(self.x)} periods; latest {parts}"

    def series_name(self, s: Series, lang: str) -> str:
        """A series' name in ``lang`` (a metric code by its label, a sentence translated)."""
        return self.axis_label(s.name, lang)

    def colours(self) -> list[str]:
        """One colour a series; a dashed series named after a solid one (``item`` and
        ``item_peer_avg``) takes its colour, so each benchmark sits with its line."""
        out: list[str] = []
        solid: dict[str, str] = {}
        for s in self.series:
            mate = next(
                (c for n, c in solid.items() if s.dashed and s.name.startswith(n + "_")), None
            )
            colour = mate or PALETTE[len(solid) % len(PALETTE)]
            if not s.dashed:
                solid[s.name] = colour
            out.append(colour)
        return out

    def _columns(self) -> dict[str, list[Any]]:
        cols: dict[str, list[Any]] = {self.x_label or "x": list(self.x)}
        for s in self.series:
            cols[s.name] = list(s.y)
        return cols

    def to_svg(self, *, lang: str = "en", show_title: bool = True) -> str:
        colours = self.colours()
        items = []
        for s, c in zip(self.series, colours, strict=True):
            dash = ' stroke-dasharray="5 4"' if s.dashed else ""
            items.append(
                (
                    f'<line x1="0" x2="18" y1="0" y2="0" stroke="{c}" stroke-width="2.5"{dash}/>',
                    self.series_name(s, lang),
                )
            )
        plot = self._xy_plot(items, len(self.x), lang, show_title)
        parts, xmap, ymap = plot.parts, plot.xmap, plot.ymap
        for s, c in zip(self.series, colours, strict=True):
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            name = self.series_name(s, lang)
            parts.append(f'<g class="series"><title>{esc(name)}</title>')
            for run in segments(s.y):
                parts.append(
                    f'<polyline fill="none" stroke="{c}" stroke-width="2.2"{dash} '
                    'stroke-linejoin="round" points="'
                    + " ".join(f"{coord(xmap(i))},{coord(ymap(s.y[i]))}" for i in run)
                    + '"/>'
                )
            if not s.dashed:
                for i, v in enumerate(s.y):
                    if finite(v):
                        parts.append(
                            f'<circle cx="{coord(xmap(i))}" cy="{coord(ymap(v))}" r="2.5" fill="{c}">'
                            f"<title>{esc(name)} {esc(x_text(self.x[i]))}: "
                            f"{esc(value_text(v, self.percent, self._dec))}</title></circle>"
                        )
            parts.append("</g>")
        parts.extend(
            x_axis(
                self.x,
                xmap,
                plot.y_base,
                plot.x0,
                plot.x1,
                label=self.axis_label(self.x_label, lang),
            )
        )
        parts.append("</svg>")
        return "".join(parts)
