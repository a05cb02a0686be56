"""Decision latency: a stylist's key → next pair, a merchandiser's accept → next card, vs an empty app's button."""

# Run: nice -n 10 .venv/bin/python -m benchmarks decision_latency [--quick]
# The real app (`streamlit run app.py`) on the small demo and a one-button Streamlit script run side by side, in
# one Chromium; each round presses the empty app's key, Y on Outfit labelling and A on Attribute review, one after
# the other, so the three share the machine's load. A press is timed in the page, from the keydown to the DOM
# showing the new count / pair / first card (a MutationObserver), then the app is left to finish its run. Server
# time per decision comes from the app's own timing log (ui/timing.py: the decision's callback to the end of the
# redrawn card). The demo with its attribute model is prepared once into benchmarks/results/ (delete the folder to
# prepare it again): training the model on two loaded cores takes minutes and is not what is measured.

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from pathlib import Path

from core.config import REPO_ROOT
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # the one place the browser's path and flags live

TARGET_S = 0.150  # the server-time budget per decision
BROWSER_LIMIT = 2.0  # ≤ 2× an empty app's button rerun, measured in the same run
PREPARED = REPO_ROOT / "benchmarks" / "results" / "decision-latency-demo"
ATTRIBUTE_PARAMS = {"epochs": 2, "text_dim": 32, "hidden": 64, "categorical_dim": 8}  # the browser tests' quick model
STAMP = {"size": "small", "seed": 42, "attribute_params": ATTRIBUTE_PARAMS, "pairs": 400}
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

EMPTY_APP = '''import streamlit as st

st.session_state.setdefault("count", 0)


def bump() -> None:
    st.session_state["count"] += 1


st.button("Next", shortcut="Y", on_click=bump)
st.write(f"count {st.session_state['count']}")
'''

# Reads what the screen shows now: the empty app's count, the pair's id, the first review card's key.
SHOWN = {
    "empty": "() => (document.body.innerText.match(/count (\\d+)/) || [])[1] || null",
    "outfit": "() => { const c = [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
              ".map(e => e.innerText).find(t => /^Pair \\d+ ·/.test(t)); return c ? c.split(' ·')[0] : null; }",
    "review": "() => { const c = document.querySelector('[class*=\"st-key-card_\"]');"
              " return c ? [...c.classList].find(k => k.startsWith('st-key-card_')) : null; }",
}

# Installs a keydown clock and an observer that stamps the first DOM state that differs from the one before.
ARM = """([shown, before]) => {
  const read = eval(shown);
  window.__decision = {t0: null, t1: null};
  document.addEventListener('keydown', () => { window.__decision.t0 = performance.now(); },
                            {capture: true, once: true});
  const observer = new MutationObserver(() => {
    const now = read();
    if (window.__decision.t0 !== null && now !== null && now !== before) {
      window.__decision.t1 = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def _prepare() -> Path:
    """The small demo with queued pairs and an active attribute model, made once (see the note at the top)."""
    from core.data.workspace import Workspace
    from core.services import attribute_training, outfits
    from core.services.demo import create_demo
    from core.models.attributes.params import AttributeParams

    stamp = PREPARED / "prepared.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == STAMP:
        return PREPARED / "demo"
    shutil.rmtree(PREPARED, ignore_errors=True)
    ws = create_demo(PREPARED / "demo", size=STAMP["size"], seed=STAMP["seed"])
    outfits.propose_candidates(ws, n=STAMP["pairs"], seed=STAMP["seed"])
    attribute_training.submit_training(Workspace.open(ws.path), AttributeParams.from_dict(ATTRIBUTE_PARAMS), "local",
                                       inline=True, baseline=False, refit=False)
    stamp.write_text(json.dumps(STAMP))
    return PREPARED / "demo"


def _press(page, key: str, what: str) -> float:  # playwright Page -> seconds from keydown to the new state drawn
    before = page.evaluate(SHOWN[what])
    page.evaluate(ARM, [SHOWN[what], before])
    page.keyboard.press(key)
    page.wait_for_function("() => window.__decision && window.__decision.t1 !== null", timeout=120_000)
    elapsed = page.evaluate("() => (window.__decision.t1 - window.__decision.t0) / 1000")
    page.wait_for_selector(IDLE, timeout=120_000)  # the run finishes before the next key, as a person waits
    page.wait_for_timeout(250)
    return float(elapsed)


def _open(browser, url: str, link: str | None, ready: str):  # -> playwright Page
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.wait_for_selector(IDLE)
    if link:  # through the app's navigation, as people open the page (and so the shell runs as for them)
        page.get_by_role("link", name=link).click()
    try:
        page.wait_for_function(f"() => ({ready})() !== null")
        page.wait_for_selector(IDLE)
    except Exception as error:  # playwright's TimeoutError: say which page, with what it showed
        raise RuntimeError(f"{url} {link or ''}: never showed what is measured; the page said: "
                           f"{page.inner_text('body')[:1500]}") from error
    page.wait_for_timeout(800)  # shortcut listeners attach after the buttons mount
    return page


def _server_seconds(log: Path, what: str, skip: int) -> float | None:
    """Median server time of the `what` decisions in the timing log, after the first `skip` (warm-up) ones."""
    if not log.is_file():
        return None  # an app without the timing log (e.g. an older checkout measured for comparison)
    times = [json.loads(line)["ms"] / 1000 for line in log.read_text().splitlines() if line.strip()]
    kinds = [json.loads(line)["what"] for line in log.read_text().splitlines() if line.strip()]
    chosen = [t for t, k in zip(times, kinds) if k == what][skip:]
    return statistics.median(chosen) if chosen else None


def run(quick: bool = True) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import streamlit_server

    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is absent: apt-get install -y chromium")
    repeats, warmup = (5, 1) if quick else (15, 3)
    demo = _prepare()
    with tempfile.TemporaryDirectory(prefix="atelier-decisions-") as tmp:
        root = Path(tmp)
        shutil.copytree(demo, root / "workspaces" / "demo")  # with the WAL, where the last commits live
        empty = root / "empty_app.py"
        empty.write_text(EMPTY_APP)
        log = root / "timing.jsonl"
        times: dict[str, list[float]] = {"empty": [], "outfit": [], "review": []}
        with streamlit_server(root, script=empty) as empty_url, \
                streamlit_server(root, env={"ATELIER_TIMING_LOG": str(log)}) as app_url, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                tabs = {"empty": (_open(browser, empty_url, None, SHOWN["empty"]), "y"),
                        "outfit": (_open(browser, app_url, "Outfit labelling", SHOWN["outfit"]), "y"),
                        "review": (_open(browser, app_url, "Attribute review", SHOWN["review"]), "a")}
                for round_ in range(warmup + repeats):
                    for what, (page, key) in tabs.items():
                        elapsed = _press(page, key, what)
                        if round_ >= warmup:
                            times[what].append(elapsed)
            finally:
                browser.close()
        server = {"outfit": _server_seconds(log, "outfit_label", warmup),
                  "review": _server_seconds(log, "attribute_accept", warmup)}
    base = statistics.median(times["empty"])
    rows = []
    for what, label in (("outfit", "outfit.key_to_next_pair"), ("review", "attributes.accept_to_next_card")):
        value = statistics.median(times[what])
        rows.append({"name": label, "value": value, "unit": "s", "baseline_value": base, "ratio": value / base,
                     "limit": BROWSER_LIMIT, "baseline_name": f"empty app's button rerun, same run (median of "
                                                              f"{repeats}; Chromium, keydown to drawn)"})
        if server[what] is not None:
            rows.append({"name": f"{label}.server", "value": server[what], "unit": "s",
                         "baseline_name": "target 150 ms (callback to the redrawn card, the app's timing log)",
                         "baseline_value": TARGET_S, "ratio": server[what] / TARGET_S, "limit": 1.0})
    return rows
