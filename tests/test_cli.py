"""The ``shopmetrics`` command line: exit codes, messages, files written."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import shopmetrics as sm
import shopmetrics.report.weekly as report_module
from shopmetrics import cli
from shopmetrics.cli import main


def _orders(buyer_col: str = "buyer_id", amount: float = 20.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            buyer_col: ["b1", "b2", "b3"],
            "created_at": pd.to_datetime(
                ["2026-11-16 10:00", "2026-11-17 09:00", "2026-11-18 11:00"]
            ),
            "paid_at": pd.to_datetime(["2026-11-16 10:05", None, "2026-11-18 11:30"]),
            "amount": [10.0, 15.0, amount],
        }
    )


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-16 09:58", "2026-11-16 09:59", "2026-11-17 08:50"]),
            "visitor_id": ["v1", "v1", "v2"],
            "event": ["exposure", "visit", "visit"],
        }
    )


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, Path]:
    paths = {"events": tmp_path / "events.parquet", "orders": tmp_path / "orders.parquet"}
    _events().to_parquet(paths["events"], index=False)
    _orders().to_parquet(paths["orders"], index=False)
    return paths


def _fake_report() -> sm.Report:
    return sm.Report(
        "Weekly report",
        week="2026-W47",
        generated_at=dt.datetime(2026, 11, 23, 8, 0),
        headline=[sm.Headline("visitors", 2, previous=1)],
        sections=[sm.Section("funnel", tables=[("Funnel", pd.DataFrame({"visitors": [2]}))])],
    )


@pytest.fixture
def fake_weekly_report(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def weekly_report(
        events: Any,
        orders: Any,
        ratings: Any = None,
        *,
        week: str | None = None,
        tz: str | None = None,
        columns: Any = None,
        lang: str = "en",
        progress: Any = None,
    ) -> sm.Report:
        calls.append(
            {
                "events": events,
                "orders": orders,
                "ratings": ratings,
                "week": week,
                "tz": tz,
                "columns": columns,
                "lang": lang,
            }
        )
        return _fake_report()

    monkeypatch.setattr(report_module, "weekly_report", weekly_report)
    return calls


# ------------------------------------------------------------------ usage (exit 2)


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"shopmetrics {sm.__version__}"
    assert main(["report", "--help"]) == 0
    assert "--events" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["report", "--events", "e.parquet"],  # --orders and --out missing
        ["demo", "--seed", "x"],
        ["demo", "--days", "0"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_report_bad_week_tz_and_extension_exit_2(
    tables: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_weekly_report: list[dict[str, Any]],
) -> None:
    base = ["report", "--events", str(tables["events"]), "--orders", str(tables["orders"])]
    assert main([*base, "--week", "2026-W60", "--out", str(tmp_path / "r.html")]) == 2
    assert "ISO week" in capsys.readouterr().err
    assert main([*base, "--tz", "Mars/Olympus", "--out", str(tmp_path / "r.html")]) == 2
    assert "time zone" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "r.pdf")]) == 2
    assert ".xlsx" in capsys.readouterr().err
    assert (
        main(
            [
                *base,
                "--ratings",
                str(tmp_path / "missing.parquet"),
                "--out",
                str(tmp_path / "r.html"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    assert fake_weekly_report == []  # nothing was computed


# ------------------------------------------------------------------ report (exit 0 / 1)


@pytest.mark.parametrize("suffix", [".html", ".md", ".xlsx"])
def test_report_writes_the_format_of_the_extension(
    suffix: str,
    tables: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_weekly_report: list[dict[str, Any]],
) -> None:
    out = tmp_path / "out" / f"report{suffix}"
    code = main(
        [
            "report",
            "--events",
            str(tables["events"]),
            "--orders",
            str(tables["orders"]),
            "--week",
            "2026-W47",
            "--tz",
            "Asia/Shanghai",
            "--lang",
            "zh",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    call = fake_weekly_report[0]
    assert call["events"] == str(tables["events"])
    assert (call["week"], call["tz"], call["lang"]) == ("2026-W47", "Asia/Shanghai", "zh")
    if suffix == ".html":
        assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert "访客数" in out.read_text(encoding="utf-8")
    elif suffix == ".md":
        # --lang zh: the title too is Chinese (issue 15: the zh report is Chinese throughout)
        assert out.read_text(encoding="utf-8").startswith("# 周报")
    else:
        assert openpyxl.load_workbook(out).sheetnames[0] == "概要"


def test_report_stops_with_exit_1_on_validation_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_weekly_report: list[dict[str, Any]]
) -> None:
    events = tmp_path / "events.csv"
    _events().to_csv(events, index=False)
    orders = tmp_path / "orders.parquet"
    _orders(amount=-5.0).to_parquet(orders, index=False)
    code = main(
        [
            "report",
            "--events",
            str(events),
            "--orders",
            str(orders),
            "--out",
            str(tmp_path / "r.html"),
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "negative_values" in out
    assert fake_weekly_report == []


# ------------------------------------------------------------------ validate


def test_validate_clean_tables_exit_0(
    tables: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tables["events"]), str(tables["orders"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: no problems found")
    assert "events (3 rows)" in out
    assert "orders (3 rows)" in out


def test_validate_errors_exit_1_as_a_readable_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.parquet"
    _orders(buyer_col="buyer", amount=-5.0).to_parquet(path, index=False)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("FAILED: 2 error(s)")
    assert any(
        line.strip().startswith("1. [error] missing_column (orders.buyer_id)") for line in lines
    )
    assert "did you mean 'buyer'" in out
    assert "negative_values (orders.amount, 1 rows)" in out
    assert "e.g. {" in out


def test_validate_uses_the_column_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.parquet"
    _orders(buyer_col="buyer").to_parquet(path, index=False)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"buyer": "buyer_id"}), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert main(["validate", str(path), "--columns", str(mapping)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(path), "--columns", str(bad)]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_validate_names_tables_by_file_name_or_explicitly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "export-2026-11.parquet"
    _orders().to_parquet(odd, index=False)
    assert main(["validate", str(odd)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell which table" in err
    assert main(["validate", f"orders={odd}"]) == 0
    assert main(["validate", str(tmp_path / "events.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------ demo


def test_demo_writes_the_store_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "demo"
    args = [
        "demo",
        "--out",
        str(out_dir),
        "--seed",
        "3",
        "--days",
        "7",
        "--products",
        "10",
        "--visitors-per-day",
        "40",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    printed = captured.out.split()
    store = sm.datasets.make_store(seed=3, days=7, products=10, visitors_per_day=40)
    expected = {**store.tables(), "dsr_peers": store.dsr_peers}
    for name, frame in expected.items():
        path = out_dir / "data" / f"{name}.parquet"
        assert str(path) in printed
        back = pd.read_parquet(path)
        assert back.shape == frame.shape, name
        assert list(back.columns) == list(frame.columns)
    events = pd.read_parquet(out_dir / "data" / "events.parquet")
    key = ["ts", "visitor_id", "event"]
    pd.testing.assert_frame_equal(
        events[key].sort_values(key).reset_index(drop=True),
        store.events[key].sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    assert (out_dir / "report.html").exists()
    assert (out_dir / "report.md").exists()
    assert "✓" not in captured.err  # stderr is not a terminal here: no progress display


# ------------------------------------------------------------------ progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only() -> None:
    tty = _Tty()
    progress = cli.Progress(tty)
    with progress.step("reading tables"):
        progress.note("reading orders")
    text = tty.getvalue()
    assert "reading orders" in text
    assert "✓ reading tables (" in text
    quiet = io.StringIO()
    with cli.Progress(quiet).step("reading tables"):
        pass
    assert quiet.getvalue() == ""
    failing = _Tty()
    with pytest.raises(RuntimeError, match="model failed"), cli.Progress(failing).step("modelling"):
        raise RuntimeError("model failed")
    assert "✗ modelling" in failing.getvalue()
