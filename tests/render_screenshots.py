"""Render the demo store's weekly report (en and zh) to PNG with headless Chromium.

``make screenshots`` runs it; the pictures go to ``docs/img/`` (``report-en.png``,
``report-zh.png``) and are shown on the docs' home page. The page is the one
``shopmetrics demo`` writes: no script, no external request (its Content-Security-Policy
forbids them), so the picture is what a reader's browser shows offline.

Usage: ``python tests/render_screenshots.py [OUT_DIR]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WINDOW = "1280,2400"
"""Desktop width of the issue's check (1280 CSS px); tall enough for the headline, the
trend and the funnel."""


def chromium() -> str:
    """The Chromium executable (``make browser-deps`` installs it)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "headless Chromium is needed: make browser-deps (apt-get install chromium)"
        raise SystemExit(msg)
    return exe


def shoot(html: Path, png: Path, profile: Path) -> None:
    """One full-width screenshot of ``html`` into ``png``."""
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW}",
        f"--screenshot={png}",
        html.as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)


def main(out: Path) -> None:
    import shopmetrics as sm

    store = sm.datasets.make_store(seed=0)
    report = sm.weekly_report(
        events=store.events,
        orders=store.orders,
        ratings=store.ratings,
        spend=store.spend,
        peers=store.peers,
        dsr_peers=store.dsr_peers,
    )
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("en", "zh"):
            page = Path(tmp) / f"report-{lang}.html"
            report.to_html(page, lang=lang)
            shoot(page, out / f"report-{lang}.png", Path(tmp) / f"profile-{lang}")
            print(out / f"report-{lang}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img"))
