"""Long-tail page at 100k items in Chromium: seconds to a settled page and bytes received, vs an empty Streamlit app."""

# Run: nice -n 10 .venv/bin/python -m benchmarks longtail_page [--quick]
#  or: nice -n 10 .venv/bin/python -m benchmarks.longtail_page [--items N] [--repeats N]
# A tiny demo workspace gets a synthetic catalogue of N items and an active long-tail version over them (random
# clustered 2-D maps, random unit vectors, long-tailed interaction counts), so the page draws what a 100k-item
# catalogue draws without the minutes of ALS, encoder and UMAP. Each server (`streamlit run app.py`, opened at
# /long_tail; a one-line script; outside --quick, two 1,000-point maps) is warmed by one visit in a new browser
# profile; then each visit is a new tab of that profile (a new Streamlit session, the frontend's files in the
# HTTP cache), timed from `goto` to a settled page: the script finished, no skeleton or spinner left and, for
# the app, both maps drawn in WebGL.
# Bytes are what Chromium received: every response body on the wire (CDP `Network.loadingFinished`
# encodedDataLength) plus every websocket frame's payload (`Network.webSocketFrameReceived`).

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import REPO_ROOT
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # the one place the browser's path and flags live

EMPTY_APP = 'import streamlit as st\nst.write("ready")\n'
# The floor of any page with two selectable WebGL maps: the same two st.plotly_chart calls with 1,000 points each.
PLOTLY_APP = """import numpy as np, plotly.graph_objects as go, streamlit as st
st.set_page_config(layout="wide")
rng = np.random.default_rng(0)
for i, column in enumerate(st.columns(2)):
    xy = rng.integers(0, 65535, (1000, 2)).astype(np.uint16)
    figure = go.Figure(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", hoverinfo="name"))
    figure.update_layout(height=520, dragmode="select")
    column.plotly_chart(figure, key=f"map{i}", on_select="rerun", selection_mode=("points", "box", "lasso"))
"""
TARGET_S, TARGET_MB = 2.0, 3.0
# Settled: the script run is over, no skeleton or spinner is left and every map has drawn its WebGL canvas.
SETTLED_JS = """(maps) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  if (maps === 0) return !!document.querySelector('[data-testid="stMarkdown"]');
  const drawn = plots.filter(p => p._fullLayout && p.querySelector('.gl-canvas-context'));
  return drawn.length >= maps;
}"""


def synthetic_workspace(root: Path, n_items: int, seed: int = 0):  # -> Workspace
    """A tiny demo workspace whose catalogue is `n_items` synthetic items and whose active long-tail version maps
    them: three (n, 32) float32 spaces, (n, 2) float32 layouts in category clusters, long-tailed counts."""
    from core.data.demo import CATEGORIES, STYLE_WORDS
    from core.data.workspace import Workspace
    from core.models.long_tail import LongTailModel, LongTailParams
    from core.models.long_tail.evaluate import SPACES, popularity_buckets
    from core.services import models as versions
    from core.services.demo import create_demo

    create_demo(root / "workspaces" / "bench", size="tiny", seed=seed)
    ws = Workspace.open(root / "workspaces" / "bench")
    rng = np.random.default_rng(seed)
    words = np.array([w for group in STYLE_WORDS.values() for w in group])
    category = rng.integers(0, len(CATEGORIES), n_items)
    names = np.array([c[0] for c in CATEGORIES])[category]
    item_ids = np.array([f"i{i:07d}" for i in range(n_items)])
    catalogue = pd.DataFrame({
        "item_id": item_ids, "name": pd.Series(words[rng.integers(0, len(words), n_items)]) + " " + names,
        "brand": [f"brand {b:04d}" for b in rng.zipf(1.3, n_items) % 3000],
        "category": names, "category_group": np.array([c[1] for c in CATEGORIES])[category],
        "price": np.round(rng.uniform(10, 300, n_items), 2), "image_url": ""})
    catalogue.to_parquet(ws.table_path("catalogue"), index=False)
    counts = np.minimum(rng.zipf(1.6, n_items) - 1, 5000).astype(np.int64)  # most items have 0–2 interactions
    vectors = {}
    for space in ("als", "predicted", "blended"):
        v = rng.normal(size=(n_items, 32)).astype(np.float32)
        vectors[space] = v if space == "als" else v / np.linalg.norm(v, axis=1, keepdims=True)
    centres = rng.normal(scale=8.0, size=(len(CATEGORIES), 2))
    layouts = {space: (centres[category] + rng.normal(scale=2.0, size=(n_items, 2))).astype(np.float32)
               for space in ("als", "predicted", "blended")}
    # The page shows the stored evaluation (a few kB); its figures here are random, only its shape matters.
    buckets = ("all", "head", "torso", "tail", "0", "1-2", "3-10", "11+")
    evaluation = {s: {b: {"ndcg@10": float(rng.uniform(0.01, 0.3)), "ap": float(rng.uniform(0.01, 0.3)),
                          "n_items": 500, "item_ndcg@10": float(rng.uniform(0.01, 0.3)),
                          "item_ap": float(rng.uniform(0.01, 0.3)), "item_n_items": 500} for b in buckets}
                  for s in SPACES}
    model = LongTailModel(item_ids, vectors, counts, popularity_buckets(counts), LongTailParams(), layouts,
                          meta={"source": "interactions", "evaluation": evaluation, "history": []})
    store = versions.store(ws)
    version = store.save(LongTailModel.kind, *model.to_artifact())
    versions.register_version(ws, LongTailModel.kind, version, {}, "benchmark")
    versions.activate(ws, LongTailModel.kind, version, "benchmark")
    return ws


def _cpu_seconds() -> dict[int, tuple[bool, float]]:
    """(is the Streamlit server, CPU seconds user + system) of every process this one started: the Streamlit
    server, Playwright's driver and Chromium's browser, GPU and renderer processes."""
    import psutil  # a dependency of distributed, like the scaling benchmark's

    seconds = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            seconds[child.pid] = ("streamlit" in " ".join(child.cmdline()), times.user + times.system)
        except psutil.Error:  # a process that ended meanwhile
            continue
    return seconds


def visit(context, url: str, maps: int) -> tuple[float, int, int, float, float]:
    """(seconds to a settled page, bytes of responses, bytes of websocket frames, CPU seconds of the server, CPU
    seconds of the browser) of one visit in a new tab."""
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        received = {"responses": 0, "websocket": 0}

        def on_frame(event: dict) -> None:
            response = event["response"]
            payload = response.get("payloadData", "")
            # Binary frames (opcode 2, Streamlit's protobuf messages) arrive base64-encoded.
            received["websocket"] += len(base64.b64decode(payload)) if response.get("opcode") == 2 else \
                len(payload.encode())

        def on_response(event: dict) -> None:
            received["responses"] += int(event["encodedDataLength"])

        cdp.on("Network.webSocketFrameReceived", on_frame)
        cdp.on("Network.loadingFinished", on_response)
        cdp.send("Network.enable")
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function(SETTLED_JS, arg=maps, timeout=300_000, polling="raf")
        seconds = time.perf_counter() - started
        # Taken before the tab closes, while its renderer process still exists; the polling above costs the same
        # in every app measured.
        cpu_after = _cpu_seconds()
        used = {True: 0.0, False: 0.0}
        for pid, (server, t) in cpu_after.items():
            used[server] += t - cpu_before.get(pid, (server, 0.0))[1]
        page.wait_for_timeout(500)  # late frames (a final delta, forward messages) still count as received
        return seconds, received["responses"], received["websocket"], used[True], used[False]
    finally:
        page.close()


def measure(browser, url: str, maps: int, repeats: int) -> dict:
    """A first visit in a new browser profile (the server loads and caches the model, the browser downloads the
    frontend), then medians over `repeats` fresh tabs of that profile: new sessions with the HTTP cache warm, as
    a person opening the page in another tab sees it."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        first = visit(context, url, maps)
        visits = [visit(context, url, maps) for _ in range(repeats)]
    finally:
        context.close()
    seconds, responses, websocket, server, browser_cpu = (statistics.median(v[i] for v in visits) for i in range(5))
    return {"first_s": first[0], "first_b": first[1] + first[2], "s": seconds, "responses_b": responses,
            "websocket_b": websocket, "total_b": responses + websocket, "cpu_s": server + browser_cpu,
            "server_cpu_s": server, "browser_cpu_s": browser_cpu,
            "all_s": [round(v[0], 2) for v in visits]}


def run(quick: bool = True, repeats: int | None = None, n_items: int | None = None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import streamlit_server

    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is absent: apt-get install -y chromium")
    # --quick is a smoke run (a third of the size, one tab): the targets are read from the full run at 100k.
    n_items = n_items or (30_000 if quick else 100_000)
    repeats = repeats or (1 if quick else 5)
    root = Path(tempfile.mkdtemp(prefix="atelier-bench-longtail-page-"))
    try:
        built = time.perf_counter()
        synthetic_workspace(root, n_items)
        print(f"longtail_page: workspace of {n_items:,} items in {time.perf_counter() - built:.1f} s", file=sys.stderr)
        empty, plotly_floor = root / "empty_app.py", root / "plotly_app.py"
        empty.write_text(EMPTY_APP)
        plotly_floor.write_text(PLOTLY_APP)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                with streamlit_server(root, script=empty) as url:
                    base = measure(browser, url, 0, repeats)
                floor = None
                if not quick:  # a third server and its visits would take --quick past a minute
                    with streamlit_server(root, script=plotly_floor) as url:
                        floor = measure(browser, url, 2, repeats)
                with streamlit_server(root, workspace="bench", script=REPO_ROOT / "app.py") as url:
                    page = measure(browser, f"{url}/long_tail", 2, repeats)
            finally:
                browser.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for name, m in (("empty app", base), ("two 1,000-point maps", floor), ("long tail", page)):
        if m is None:
            continue
        print(f"longtail_page {name}: settled {m['all_s']} s, CPU {m['server_cpu_s']:.2f} s server + "
              f"{m['browser_cpu_s']:.2f} s browser (first visit {m['first_s']:.2f} s, "
              f"{m['first_b'] / 1e6:.2f} MB with the frontend's files), responses "
              f"{m['responses_b'] / 1e6:.2f} MB + websocket {m['websocket_b'] / 1e6:.2f} MB, "
              f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", file=sys.stderr)
    size = f"{n_items // 1000}k items"
    common = {"items": n_items, "repeats": repeats, "cpus": os.cpu_count(),
              "load_average_1m": round(os.getloadavg()[0], 2)}
    mb = {k: page[k] / 1e6 for k in ("total_b", "responses_b", "websocket_b")}
    empty_mb = base["total_b"] / 1e6
    rows = [
        {**common, "name": f"long tail page settled, fresh tab ({size})", "value": page["s"], "unit": "s",
         "baseline_name": f"target {TARGET_S:g} s", "baseline_value": TARGET_S, "ratio": page["s"] / TARGET_S,
         "limit": 1.0, "visits_s": page["all_s"]},
        {**common, "name": f"long tail page settled vs empty app ({size})", "value": page["s"], "unit": "s",
         "baseline_name": f"empty Streamlit app, fresh tab (median of {repeats})", "baseline_value": base["s"],
         "ratio": page["s"] / base["s"], "visits_s": base["all_s"]},
        # CPU seconds of server + browser per visit: what the wall clock would approach on quiet cores (less
        # what runs in parallel), and far less at the mercy of other work than the wall clock.
        {**common, "name": f"long tail page CPU s per visit vs empty app ({size})", "value": page["cpu_s"],
         "unit": "CPU s", "baseline_name": "empty Streamlit app (server + Chromium CPU)",
         "baseline_value": base["cpu_s"], "ratio": page["cpu_s"] / base["cpu_s"],
         "server_cpu_s": page["server_cpu_s"], "browser_cpu_s": page["browser_cpu_s"]},
        {**common, "name": f"long tail page received, fresh tab ({size})", "value": mb["total_b"], "unit": "MB",
         "baseline_name": f"target {TARGET_MB:g} MB", "baseline_value": TARGET_MB, "ratio": mb["total_b"] / TARGET_MB,
         "limit": 1.0, "responses_mb": mb["responses_b"], "websocket_mb": mb["websocket_b"]},
        {**common, "name": f"long tail page received vs empty app ({size})", "value": mb["total_b"], "unit": "MB",
         "baseline_name": "empty Streamlit app, fresh tab (responses + websocket)", "baseline_value": empty_mb,
         "ratio": mb["total_b"] / empty_mb},
        {**common, "name": f"long tail page websocket only ({size})", "value": mb["websocket_b"], "unit": "MB",
         "baseline_name": "empty Streamlit app's websocket", "baseline_value": base["websocket_b"] / 1e6,
         "ratio": page["websocket_b"] / max(base["websocket_b"], 1)},
        {**common, "name": f"long tail page first visit, cold cache ({size})", "value": page["first_s"], "unit": "s",
         "baseline_name": "empty app's first visit", "baseline_value": base["first_s"],
         "ratio": page["first_s"] / base["first_s"]},
        {**common, "name": f"long tail page first visit received ({size})", "value": page["first_b"] / 1e6,
         "unit": "MB", "baseline_name": "empty app's first visit (both download the frontend's files)",
         "baseline_value": base["first_b"] / 1e6, "ratio": page["first_b"] / base["first_b"]},
    ]
    if floor is not None:
        rows.insert(2, {**common, "name": f"long tail page settled vs plotly floor ({size})", "value": page["s"],
                        "unit": "s", "baseline_name": "an app of two selectable 1,000-point WebGL maps, fresh tab",
                        "baseline_value": floor["s"], "ratio": page["s"] / floor["s"], "visits_s": floor["all_s"]})
        rows.insert(4, {**common, "name": f"long tail page CPU s per visit vs plotly floor ({size})",
                        "value": page["cpu_s"], "unit": "CPU s", "baseline_value": floor["cpu_s"],
                        "baseline_name": "two selectable 1,000-point WebGL maps (server + Chromium CPU)",
                        "ratio": page["cpu_s"] / floor["cpu_s"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    for row in run(args.quick, args.repeats, args.items):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
