"""Screenshot every page of the app in headless Chromium: `python scripts/screenshots.py [OUT_DIR] [--workspace
DIR]`."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.browser.conftest import streamlit_server, wait_idle  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", type=Path, default=REPO / "data" / "screenshots")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="workspace folder to show (default: a fresh small demo)")
    parser.add_argument("--height", type=int, default=2000, help="viewport height: the page body scrolls inside it")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from core.data.demo import generate_demo

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atelier-shots-") as tmp:
        home = Path(tmp)
        # The copy keeps the folder's name: model versions and decisions are recorded under the workspace's name.
        name = args.workspace.resolve().name if args.workspace else "demo"
        target = home / "workspaces" / name
        if args.workspace:
            # The -wal file is not copied (a live writer could be mid-page), so fold it into the database first:
            # without this, versions activated since the last checkpoint were missing and pages said "no model yet".
            for database in args.workspace.glob("*.db"):
                with sqlite3.connect(database) as connection:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copytree(args.workspace, target, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
        else:
            generate_demo(target)
        with streamlit_server(home, workspace=name) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": args.height})
            page.goto(url)
            wait_idle(page)
            links = page.locator('[data-testid="stSidebarNav"] a')
            targets = [(t.strip().splitlines()[-1].strip(), links.nth(i).get_attribute("href"))
                       for i, t in enumerate(links.all_inner_texts())]
            for title, href in targets:
                page.goto(href if href.startswith("http") else f"{url}/{href.lstrip('/')}")
                wait_idle(page)
                path = args.out / f"{title.lower().replace(' ', '_')}.png"
                page.screenshot(path=str(path))
                print(path)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
