"""The public records of the demo store: the :class:`Store` and its planted :class:`Trap` records."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, slots=True)
class Trap:
    """One planted trap: what it touches and when.

    Attributes:
        code: The trap's name (``"presale_zero_payment"``, ``"bot_traffic"``,
            ``"order_brushing"``, ``"tracking_gap"``, ``"mix_shift"``).
        subject: What the trap touches, e.g. ``{"product_id": "P007"}``; lists of ids
            are comma-separated.
        start: First affected moment (store-local, naive).
        end: End of the affected span (exclusive).
        description: One sentence on what was planted and how it misleads.
    """

    code: str
    subject: dict[str, str]
    start: pd.Timestamp
    end: pd.Timestamp
    description: str


@dataclass(frozen=True, slots=True, eq=False)
class Store:
    """A generated store: the six input tables, the truth behind them and the traps.

    Attributes:
        events: One row per tracked event, sorted by ``ts`` (``ts``, ``visitor_id``,
            ``event``, ``product_id``, ``source``, ``session_id``, ``device``,
            ``campaign``, ``keyword``).
        orders: One row per order line.
        ratings: One row per rated trade, 240 days back from the end.
        spend: Paid traffic per date, source, campaign and keyword.
        traffic: The daily back-end export per product, computed from ``events``.
        peers: Peer benchmarks of the funnel and value metrics (long form).
        dsr_peers: Industry average, maximum and minimum of each DSR dimension.
        truth: ``"products"`` and ``"sources"``: the parameters the data were drawn from.
        traps: The planted traps (empty with ``traps=False``).
        tz: The store's time zone (timestamps are naive local times in it).
        start: The first day (midnight).
        end: The day after the last day (midnight), exclusive.
        activities: The planted activities (``make_store(activities=True)``), one row
            each (name, kind, start, end, products, fee, discount, extra_spend); ``None``
            without them.
    """

    events: pd.DataFrame
    orders: pd.DataFrame
    ratings: pd.DataFrame
    spend: pd.DataFrame
    traffic: pd.DataFrame
    peers: pd.DataFrame
    dsr_peers: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    traps: tuple[Trap, ...]
    tz: str
    start: pd.Timestamp
    end: pd.Timestamp
    activities: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six input tables by name.

        Returns:
            ``events``, ``orders``, ``ratings``, ``spend``, ``traffic`` and ``peers``.
        """
        return {
            "events": self.events,
            "orders": self.orders,
            "ratings": self.ratings,
            "spend": self.spend,
            "traffic": self.traffic,
            "peers": self.peers,
        }

    def trap(self, code: str) -> Trap:
        """The planted trap with this code.

        Args:
            code: A trap code such as ``"bot_traffic"``.

        Returns:
            The trap record.

        Raises:
            KeyError: if the store has no such trap.
        """
        for trap in self.traps:
            if trap.code == code:
                return trap
        msg = f"no trap {code!r} in this store; it has {[t.code for t in self.traps]}"
        raise KeyError(msg)

    def __repr__(self) -> str:
        last = (self.end - pd.Timedelta(days=1)).date()
        sizes = ", ".join(f"{name}={len(df):,}" for name, df in self.tables().items())
        traps = ", ".join(t.code for t in self.traps) or "none"
        return (
            f"Store({self.start.date()}..{last} {self.tz}, {sizes}, "
            f"ratings_from={self.ratings['rated_at'].min().date() if len(self.ratings) else '-'}, "
            f"traps=[{traps}])"
        )
