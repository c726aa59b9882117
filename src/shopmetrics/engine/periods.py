"""Periods and times in the engine: period keys, labels, day numbers, minute differences.

Everything is written against ``narwhals.stable.v2`` expressions, portable to every
supported engine (PySpark included): calendar fields instead of duration arithmetic,
integer period keys, naive store-local wall time.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, Literal

import narwhals.stable.v2 as nw

from shopmetrics.errors import ShopmetricsError

if TYPE_CHECKING:
    pass


Freq = Literal["D", "W", "M"] | None


FREQS: tuple[str | None, ...] = (None, "D", "W", "M")


EPOCH = dt.datetime(1970, 1, 1)


_LEAP_DAYS_BEFORE_1970 = 1969 // 4 - 1969 // 100 + 1969 // 400


PERIOD = "_period"
"""Name of the integer period-key column added by :func:`with_period`."""


def parse_instant(value: Any, name: str, tz: str | None = None) -> dt.datetime:
    """A user's date or timestamp argument as naive store-local time.

    Accepts dates, datetimes, pandas Timestamps and ISO strings. An aware value is
    converted to ``tz`` (the store's zone) before its zone is dropped; without ``tz`` it
    keeps its own wall time, as aware timestamp columns do.

    Raises:
        ShopmetricsError: the value is not a date or timestamp (the message names the
            argument and shows the expected form).
    """
    import pandas as pd  # noqa: PLC0415 - scalar parsing only, no table work

    msg = (
        f"{name}={value!r} is not a date or timestamp; use e.g. '2026-11-16' or '2026-11-16 08:00'"
    )
    try:
        ts: Any = pd.Timestamp(value)  # NaT for None / "NaT": its stub type says Timestamp
    except (ValueError, TypeError) as exc:
        raise ShopmetricsError(msg) from exc
    if pd.isna(ts):
        raise ShopmetricsError(msg)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None) if tz else ts.tz_localize(None)
    out: dt.datetime = ts.to_pydatetime()
    return out


def parse_bound(value: Any, name: str, tz: str | None = None) -> dt.datetime | None:
    """An optional ``start`` / ``end`` argument: ``None`` stays ``None``, anything else
    goes through :func:`parse_instant`."""
    return None if value is None else parse_instant(value, name, tz)


def day_number(col: str) -> nw.Expr:
    """Days since 1970-01-01 of a naive local timestamp column (an integer).

    Computed from the calendar fields (year and day of the year) with the proleptic
    Gregorian leap-year rule, which every engine provides: PySpark has no duration
    arithmetic (``dt.total_minutes``) in narwhals. No casts, so null timestamps stay
    null on every engine (pandas cannot cast NaN to an integer).
    """
    year = nw.col(col).dt.year()
    y1 = year - 1
    leap_days = y1 // 4 - y1 // 100 + y1 // 400 - _LEAP_DAYS_BEFORE_1970
    return nw.lit(365, nw.Int64()) * (year - 1970) + leap_days + nw.col(col).dt.ordinal_day() - 1


def period_key(col: str, freq: Freq, implementation: nw.Implementation | None = None) -> nw.Expr:
    """An integer key of the period a timestamp falls in.

    ``None``: one period (key 0). ``"D"``: the day number. ``"W"``: the day number of the
    ISO week's Monday. ``"M"``: ``year * 12 + month - 1``.

    ``implementation`` (the frame's engine) lets an engine use a cheaper expression for
    the same key: on polars the day number is the date's own integer (days since the
    epoch), about three times faster than the calendar arithmetic of :func:`day_number`;
    on DuckDB the difference of two dates, which is an integer there. Timestamps are
    naive local times by then (:mod:`~shopmetrics.engine.tables` converts them), so the
    date is the local calendar day on every engine.
    """
    if freq is None:
        return nw.lit(0, nw.Int64())
    if implementation is nw.Implementation.POLARS:
        day = nw.col(col).cast(nw.Date()).cast(nw.Int64())
    elif implementation is nw.Implementation.DUCKDB:
        # DATE - DATE is a BIGINT of days in DuckDB: one cast and a subtraction per row,
        # where the calendar arithmetic of day_number is emitted as nested CASEs
        day = (nw.col(col).cast(nw.Date()) - nw.lit(EPOCH.date())).cast(nw.Int64())
    else:
        day = day_number(col)
    if freq == "D":
        return day
    if freq == "W":
        d = day
        return d - ((d + 3) % 7)  # 1970-01-01 was a Thursday
    if freq == "M":
        return nw.lit(12, nw.Int64()) * nw.col(col).dt.year() + nw.col(col).dt.month() - 1
    msg = f"unknown freq {freq!r}; use None, 'D', 'W' (ISO weeks) or 'M'"  # type: ignore[unreachable]
    raise ShopmetricsError(msg)


@functools.lru_cache(maxsize=65_536)
def period_key_of(instant: dt.datetime, freq: Freq) -> int:
    """The integer period key of one (naive, local) instant, as :func:`period_key` computes it."""
    if freq is None:
        return 0
    day = (instant.date() - EPOCH.date()).days
    if freq == "D":
        return day
    if freq == "W":
        return day - ((day + 3) % 7)
    return instant.year * 12 + instant.month - 1


def epoch_microseconds(col: str) -> nw.Expr:
    """Microseconds since 1970-01-01 of a naive local timestamp, from its calendar fields.

    Portable (PySpark included): day number, hour, minute, second and microsecond are
    fields every engine extracts. A Float64, exact (an integer) until 2**53 µs after the
    epoch (the year 2255); floats because the fields are 32-bit integers on some engines
    (pandas would overflow) and pandas cannot cast a null to a 64-bit integer.
    """
    c = nw.col(col).dt
    parts = (
        (day_number(col), 86_400_000_000),
        (c.hour(), 3_600_000_000),
        (c.minute(), 60_000_000),
        (c.second(), 1_000_000),
        (c.microsecond(), 1),
    )
    total = nw.lit(0.0, nw.Float64())
    for field, unit in parts:
        total = total + field.cast(nw.Float64()) * unit
    return total


def minutes_between(
    end: str, start: str, implementation: nw.Implementation | None = None
) -> nw.Expr:
    """Whole minutes from ``start`` to ``end``, truncated toward zero.

    The same number as ``(nw.col(end) - nw.col(start)).dt.total_minutes()``, which narwhals
    does not implement for PySpark: there (and when ``implementation`` is not given) the
    difference of :func:`epoch_microseconds` is used (a whole-valued Float64); other
    engines subtract natively.

    Examples:
        >>> import datetime as dt
        >>> import narwhals.stable.v2 as nw
        >>> import pandas as pd
        >>> t0 = dt.datetime(2026, 11, 11, 23, 59, 30)
        >>> df = pd.DataFrame({"a": [t0, t0], "b": [t0 + dt.timedelta(seconds=90), t0 - dt.timedelta(seconds=90)]})
        >>> frame = nw.from_native(df).lazy()
        >>> from shopmetrics.engine.tables import collect
        >>> collect(frame.select(minutes_between("b", "a").alias("m")))["m"].tolist()
        [1.0, -1.0]
    """
    if implementation is not None and implementation not in (
        nw.Implementation.PYSPARK,
        nw.Implementation.PYSPARK_CONNECT,
    ):
        return (nw.col(end) - nw.col(start)).dt.total_minutes()
    diff = epoch_microseconds(end) - epoch_microseconds(start)
    per_minute = 60_000_000
    return nw.when(diff >= 0).then(diff // per_minute).otherwise(-((-diff) // per_minute))


@functools.lru_cache(maxsize=65_536)
def period_start(key: int, freq: Freq) -> dt.datetime:
    """The first instant (local, naive) of the period with integer ``key``."""
    if freq is None:
        return EPOCH
    if freq in ("D", "W"):
        return EPOCH + dt.timedelta(days=int(key))
    year, month0 = divmod(int(key), 12)
    return dt.datetime(year, month0 + 1, 1)


def period_end(key: int, freq: Freq) -> dt.datetime:
    """The first instant after the period with integer ``key``."""
    if freq is None:
        return EPOCH
    if freq == "D":
        return period_start(key, freq) + dt.timedelta(days=1)
    if freq == "W":
        return period_start(key, freq) + dt.timedelta(days=7)
    return period_start(key + 1, freq)


@functools.lru_cache(maxsize=65_536)
def period_label(key: int, freq: Freq) -> str:
    """A readable label: ``"all"``, ``"2026-11-16"``, ``"2026-W47"`` or ``"2026-11"``."""
    if freq is None:
        return "all"
    start = period_start(key, freq)
    if freq == "D":
        return start.strftime("%Y-%m-%d")
    if freq == "W":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return start.strftime("%Y-%m")


def between(col: str, start: dt.datetime | None, end: dt.datetime | None) -> nw.Expr:
    """``start <= col < end`` (open where ``None``)."""
    cond = nw.lit(value=True)
    if start is not None:
        cond = cond & (nw.col(col) >= nw.lit(start))
    if end is not None:
        cond = cond & (nw.col(col) < nw.lit(end))
    return cond
