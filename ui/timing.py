"""Server time of one decision, from its button's callback to the redrawn card: a log line, a file when asked."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import streamlit as st

TIMING_ENV = "ATELIER_TIMING_LOG"  # a file to append one JSON line per decision to (benchmarks read it)
_LOG = logging.getLogger("atelier.timing")
_STARTED = "_atelier_decision_started"
_FILE_LOCK = threading.Lock()


def decision_started(what: str) -> None:
    """Call first in a decision's callback: the clock runs until `card_drawn` ends the card it redraws."""
    st.session_state[_STARTED] = (what, time.perf_counter())


def card_drawn() -> float | None:
    """Call last in the card's fragment: logs what the decision cost on the server (ms) and returns it; None when
    this run was not a decision (a first draw, a filter change)."""
    started = st.session_state.pop(_STARTED, None)
    if started is None:
        return None
    what, at = started
    elapsed_ms = 1000 * (time.perf_counter() - at)
    _LOG.info("%s: %.1f ms from the callback to the redrawn card", what, elapsed_ms)
    target = os.environ.get(TIMING_ENV)
    if target:
        line = json.dumps({"what": what, "ms": round(elapsed_ms, 3), "at": time.time()})
        with _FILE_LOCK, Path(target).open("a", encoding="utf-8") as out:  # sessions run in threads of one process
            out.write(line + "\n")
    return elapsed_ms
