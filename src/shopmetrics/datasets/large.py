"""Large files for benchmarks: :func:`write_events_parquet` and :func:`orders_parquet_path`."""

from __future__ import annotations

import dataclasses
import math
import pathlib
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from shopmetrics.datasets.arrays import (
    FloatArray,
    IntArray,
    _Catalog,
    _cdf,
    _concat,
    _draw,
    _Expansion,
    _Ids,
    _Sessions,
    _take,
)
from shopmetrics.datasets.params import (
    DAY,
    EXTRA_VISITS,
    HOUR,
    HOUR_WEIGHT,
    LANDING_EXPOSURES,
    SHOP,
    SOURCE_SHARE,
    WEEKDAY_WEIGHT,
)
from shopmetrics.datasets.simulate import _attributes, _catalog, _expand, _settle
from shopmetrics.datasets.tables import (
    _EVENTS_SCHEMA,
    _ORDERS_SCHEMA,
    _events_table,
    _id_strings,
    _orders_table,
    _time_order,
)


def orders_parquet_path(events_path: str | pathlib.Path) -> pathlib.Path:
    """Where :func:`write_events_parquet` puts the orders matching an events file.

    Args:
        events_path: The events file, e.g. ``data/events.parquet``.

    Returns:
        The same name with ``_orders`` before the suffix: ``data/events_orders.parquet``.

    Examples:
        >>> orders_parquet_path("data/events.parquet").as_posix()
        'data/events_orders.parquet'
    """
    path = pathlib.Path(events_path)
    return path.with_name(f"{path.stem}_orders{path.suffix}")


_LARGE_START: Final = pd.Timestamp("2026-09-28")
_LARGE_DAYS: Final = 56
_ROW_GROUP: Final = 1_000_000


@dataclass(slots=True)
class _Large:
    """State of a large file being written: the model, the clock and the id counters."""

    cat: _Catalog
    rng: np.random.Generator
    n_visitors: int
    id_width: int
    cdf: FloatArray  # share of the period's traffic before each hour boundary
    grid: FloatArray  # the hour boundaries in seconds
    per_session: float  # expected events per session
    ids: _Ids = dataclasses.field(default_factory=_Ids)

    def sessions(self, u_lo: float, u_hi: float, n: int) -> _Sessions:
        """``n`` sessions spread over the ``[u_lo, u_hi)`` slice of the period's traffic."""
        rng = self.rng
        u = np.sort(rng.uniform(u_lo, u_hi, n))
        source = _draw(rng, _cdf(SOURCE_SHARE), n)
        product, campaign, keyword = _attributes(rng, self.cat, source)
        visitor = rng.integers(0, self.n_visitors, n)
        return _Sessions(
            t0=np.interp(u, self.cdf, self.grid).astype(np.int64),
            visitor=visitor,
            session=self.ids.take("session", n),
            source=source,
            device=(((visitor * 2_654_435_761) % 100) >= 85).astype(np.int64),
            product=product,
            campaign=campaign,
            keyword=keyword,
        )

    def chunk(self, u_lo: float, u_hi: float, target: int) -> tuple[Any, Any]:
        """Exactly ``target`` events of one slice of the period, and their orders."""
        lo, hi = (int(np.interp(u, self.cdf, self.grid)) for u in (u_lo, u_hi))
        hi = max(hi, lo + 1)
        first_session = self.ids.session
        batches: list[_Sessions] = []
        parts: list[_Expansion] = []
        got = 0
        while got < target:
            n = int((target - got) / self.per_session * 1.03) + 8
            batches.append(self.sessions(u_lo, u_hi, n))
            parts.append(_expand(batches[-1], self.cat, self.rng))
            got += parts[-1].events.ts.size
        sessions = _concat(batches)
        ev = _concat([p.events for p in parts])
        ev.ts = np.clip(ev.ts, lo, hi - 1)  # keep each chunk inside its slice: sorted file
        ev = _take(ev, _time_order(ev.ts, ev.event, np.ones(ev.ts.size, np.bool_))[:target])
        origin = int(_LARGE_START.as_unit("ns").value)
        products = pa.array(self.cat.labels)
        visitor = sessions.visitor[ev.session - first_session]
        present = np.zeros(self.n_visitors, dtype=np.bool_)
        present[visitor] = True
        visitor_codes = np.cumsum(present, dtype=np.int64) - 1
        events = _events_table(
            ev,
            sessions,
            origin,
            visitors=(visitor_codes[visitor], self._visitors(np.flatnonzero(present))),
            session_labels=_id_strings("s", np.arange(first_session, self.ids.session), 9),
            products=products,
        )
        lines = _concat([p.lines for p in parts])
        cutoff = int(ev.ts[-1]) if ev.ts.size else lo
        lines = _take(lines, np.flatnonzero(lines.created <= cutoff))
        first_order = self.ids.order
        o = _settle(lines, self.cat, self.rng, _LARGE_DAYS * DAY, self.ids)
        buyers, buyer_codes = np.unique(o.buyer, return_inverse=True)
        orders = _orders_table(
            o,
            origin,
            (
                o.order - first_order,
                _id_strings("O", np.arange(first_order, self.ids.order), 10),
            ),
            (buyer_codes.reshape(-1), self._visitors(buyers)),
            products,
        )
        return events, orders

    def _visitors(self, numbers: IntArray) -> Any:
        return _id_strings("v", numbers, self.id_width)


def write_events_parquet(
    path: str | pathlib.Path,
    n_events: int,
    seed: int = 0,
    products: int = 1000,
    chunk_rows: int = 2_000_000,
) -> pathlib.Path:
    """Write a large events table, and the orders it leads to, for benchmarks.

    The same session model as :func:`make_store` (no traps, ratings or spend), over 56
    days from 2026-09-28, with about one visitor id per 40 events. Events are generated
    and written ``chunk_rows`` at a time with :class:`pyarrow.parquet.ParquetWriter`
    (row groups of at most a million rows), so memory stays bounded whatever
    ``n_events`` is (about 0.5 GB at the default ``chunk_rows``). Chunk ``k`` covers the
    ``k``-th slice of the period's traffic, so the file is sorted by ``ts``. The file
    has exactly ``n_events`` rows with the columns of ``Store.events``.

    The orders go to :func:`orders_parquet_path` of ``path`` (``events.parquet`` ->
    ``events_orders.parquet``), with the columns of ``Store.orders``; their ``source``
    is the source of the session that ordered. The same arguments write the same files.

    Args:
        path: The events file to write (its directory must exist).
        n_events: Number of event rows.
        seed: Seed of the random streams.
        products: Number of products.
        chunk_rows: Events generated and written per step (bounds memory).

    Returns:
        The events path; the orders are at ``orders_parquet_path(path)``.

    Raises:
        ValueError: if ``n_events`` is negative or ``chunk_rows`` / ``products`` is not
            positive.
    """
    if n_events < 0 or chunk_rows < 1 or products < 1:
        msg = (
            "n_events must be >= 0, chunk_rows and products > 0; got "
            f"n_events={n_events}, chunk_rows={chunk_rows}, products={products}"
        )
        raise ValueError(msg)
    path = pathlib.Path(path)
    catalog_seed, stream_seed = np.random.SeedSequence(seed).spawn(2)
    cat = _catalog(np.random.default_rng(catalog_seed), products, {})
    hours = np.arange(_LARGE_DAYS * 24)
    weekday = (_LARGE_START.weekday() + hours // 24) % 7
    intensity = np.asarray(HOUR_WEIGHT)[hours % 24] * np.asarray(WEEKDAY_WEIGHT)[weekday]
    n_visitors = max(1_000, n_events // 40)
    large = _Large(
        cat=cat,
        rng=np.random.default_rng(stream_seed),
        n_visitors=n_visitors,
        id_width=max(7, len(str(n_visitors))),
        cdf=np.concatenate(([0.0], np.cumsum(intensity) / intensity.sum())),
        grid=np.arange(hours.size + 1, dtype=np.float64) * HOUR,
        per_session=(1.0 - SOURCE_SHARE[SHOP]) * (2.0 + LANDING_EXPOSURES + cat.other_exposures)
        + 1.0
        + EXTRA_VISITS
        + float(cat.pop @ (cat.inquiry_p + cat.cart_p + cat.favorite_p)),
    )
    n_chunks = math.ceil(n_events / chunk_rows)
    with (
        pq.ParquetWriter(path, _EVENTS_SCHEMA) as event_writer,
        pq.ParquetWriter(orders_parquet_path(path), _ORDERS_SCHEMA) as order_writer,
    ):
        for k in range(n_chunks):
            target = min(chunk_rows, n_events - k * chunk_rows)
            events, orders = large.chunk(k / n_chunks, (k + 1) / n_chunks, target)
            event_writer.write_table(events, row_group_size=_ROW_GROUP)
            order_writer.write_table(orders, row_group_size=_ROW_GROUP)
    return path
