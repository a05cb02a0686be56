"""App cold start: time from `streamlit run app.py` to the home page's first complete render, vs an empty script."""

# Run: nice -n 10 .venv/bin/python -m benchmarks app_startup [--quick]
# Both servers are started the same way and measured the same way: process start until Chromium shows the
# page with its script finished (and, for the app, the home page's metrics drawn). The demo is generated
# beforehand (not timed): this measures imports, the first script run and the overview, not the generator.

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from core.config import REPO_ROOT
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # the one place the browser's path and flags live

EMPTY_APP = 'import streamlit as st\nst.write("ready")\n'
LIMIT = 1.5  # issue 17: cold start at most 1.5x a one-line Streamlit script's


def first_render(browser, script: Path, home: Path, ready_selector: str, started: float | None = None,
                 timeout_ms: int = 180_000) -> float:
    """Seconds from `started` (default: now) until a served `script` shows `ready_selector` with its run finished."""
    from tests.browser.conftest import IDLE, streamlit_server

    started = time.perf_counter() if started is None else started
    with streamlit_server(home, script=script) as url:
        page = browser.new_page()
        try:
            page.goto(url)
            page.wait_for_selector(ready_selector, timeout=timeout_ms)
            page.wait_for_selector(IDLE, timeout=timeout_ms)
            return time.perf_counter() - started
        finally:
            page.close()


def run(quick: bool = True) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from core.services.demo import create_demo

    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is absent: apt-get install -y chromium")
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="atelier-startup-") as tmp:
        root = Path(tmp)
        # As `make run` makes it: tables and a migrated database, so the first render migrates nothing.
        demo = create_demo(root / "source" / "demo", size="small")
        empty = root / "empty_app.py"
        empty.write_text(EMPTY_APP)
        app_times, empty_times = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for i in range(repeats):
                    home = root / f"home{i}"
                    shutil.copytree(demo.path, home / "workspaces" / "demo")
                    empty_times.append(first_render(browser, empty, home, '[data-testid="stMarkdown"]'))
                    app_times.append(first_render(browser, REPO_ROOT / "app.py", home, '[data-testid="stMetric"]'))
            finally:
                browser.close()
    app_s, empty_s = statistics.median(app_times), statistics.median(empty_times)
    return [{"name": "app.cold_start_home", "value": app_s, "unit": "s", "baseline_name":
             f"`streamlit run` of a one-line script (median of {repeats})", "baseline_value": empty_s,
             "ratio": app_s / empty_s, "limit": LIMIT}]
