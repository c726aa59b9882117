"""GBK text columns cleaned on their distinct values read as the reference reads them.

:func:`shopmetrics.engine.export_text.read_fast` decodes a GBK column on its distinct
values and, when the file has no trailing short rows, trims, unwraps the Excel guards and
blanks those values there instead of in polars. These files put every guard form in a
Chinese column (``="…"``, a leading ``'``, an ideographic space alone, a guard around a
space); the expected cells are written out by hand from ``files._unwrap``'s rules (trim,
``="x"`` → ``x``, ``'x`` → ``x``, trim again, empty → missing), and the whole frame and
audit must equal the pandas reader's.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("polars") is None, reason="the fast path needs polars"
)

from tests.test_io_fast import HEADERS, _both, _order_cells, _same, _write  # noqa: E402

TITLES = ['="羊毛围巾"', "'羊毛围巾", "\u3000", " 羊毛 围巾\u3000", '="\u3000"']
WANT = ["羊毛围巾", "羊毛围巾", None, "羊毛 围巾", None]  # by hand, from the rules above


def _export(tmp_path: Path, n: int, *, note: bool) -> Path:
    lines = [HEADERS]
    for i in range(n):
        cells = _order_cells(i)
        cells[7] = TITLES[i % len(TITLES)]
        lines.append(",".join(cells))
    if note:
        lines.append("注：金额单位为元")  # a trailing short row: the fast path checks in polars
    return _write(tmp_path / "ExportOrderList202611302359.csv", lines, "gbk")


@pytest.mark.parametrize("note", [False, True])
def test_guards_and_spaces_in_a_gbk_column_read_the_same_fast(tmp_path: Path, note: bool) -> None:
    n = 40
    fast, reference = _both(_export(tmp_path, n, note=note), "orders")
    _same(fast, reference)
    got = fast.frame.collect().to_native()["宝贝标题"].to_list()
    assert got == [WANT[i % len(WANT)] for i in range(n)]
    guarded = sum(1 for i in range(n) if i % len(TITLES) in (0, 1, 4))
    notes = " ".join(fast.notes)
    assert f"'宝贝标题': {guarded}" in notes
