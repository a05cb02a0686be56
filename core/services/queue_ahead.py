"""A review queue loaded ahead of the reviewer: decided rows drop out at once, the next rows load in the background."""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import pandas as pd

# Shared by every session of the process: a refill is one queue query, rarely two at once.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="queue-ahead")


class QueueAhead:
    """The first `shown` rows of a queue, served from `shown + ahead` rows loaded before they are needed.

    `load(n)` returns the queue's first n rows (a DataFrame with an `id_column`), as of now. A decision calls
    `decided(id)`: that row leaves what `rows()` returns without a new query. When fewer than `2 * shown` undecided
    rows are left, or the rows are older than `max_age_s` (others decide too), the next `load` runs in a background
    thread (with the caller's context, so its sign-in) and is swapped in once done; `rows()` waits for it only when
    nothing undecided is left to show. Someone else's decision on a row still shown is caught where it is written
    (the stale-edit check), not here.
    """

    def __init__(self, load: Callable[[int], pd.DataFrame], shown: int, ahead: int | None = None,
                 max_age_s: float = 30.0, id_column: str = "item_id") -> None:
        self._load, self.shown, self._id = load, max(int(shown), 1), id_column
        self.size = self.shown + (max(2 * self.shown, 20) if ahead is None else int(ahead))
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._decided: set[str] = set()
        self._pending: Future[tuple[pd.DataFrame, float]] | None = None
        self._rows, self._loaded_at = self._timed_load()

    def _timed_load(self) -> tuple[pd.DataFrame, float]:
        started = time.monotonic()
        return self._load(self.size).reset_index(drop=True), started

    @property
    def complete(self) -> bool:
        """True when the rows loaded are the whole queue (fewer than asked for): nothing is left to load ahead."""
        return len(self._rows) < self.size

    def decided(self, row_id: object) -> None:
        """A decision on `row_id` was written (or refused as stale): it is not shown again from these rows."""
        with self._lock:
            self._decided.add(str(row_id))

    def rows(self) -> pd.DataFrame:
        """The first `shown` undecided rows; starts loading the next rows in the background when they run low."""
        return pd.DataFrame([r for r in self.window() if r is not None], columns=self._rows.columns)

    def window(self) -> list[dict | None]:
        """The loaded rows in their order up to the `shown`-th undecided one, a decided row as None.

        A page that keeps a place for each None draws the rows that stay where they were drawn before, so the
        browser updates them instead of building every card again one place higher."""
        with self._lock:
            self._swap_in(wait=False)
            live = self._live()
            if live.empty and not self.complete and self._start_refill():
                self._swap_in(wait=True)  # every loaded row is decided: the next ones are needed now
                live = self._live()
            elif (len(live) < 2 * self.shown and not self.complete) or self._age() > self._max_age_s:
                self._start_refill()
            if live.empty:
                return []
            last = self._rows.index.get_loc(live.index[min(self.shown, len(live)) - 1])
            window = self._rows.iloc[:last + 1].to_dict("records")
            return [None if str(r[self._id]) in self._decided else r for r in window]

    def wait(self) -> None:
        """Block until a background load under way has been swapped in (tests and benchmarks)."""
        with self._lock:
            self._swap_in(wait=True)

    def _live(self) -> pd.DataFrame:
        return self._rows[~self._rows[self._id].astype(str).isin(self._decided)] if self._decided else self._rows

    def _age(self) -> float:
        return time.monotonic() - self._loaded_at

    def _start_refill(self) -> bool:
        if self._pending is None:
            self._pending = _POOL.submit(contextvars.copy_context().run, self._timed_load)
        return True

    def _swap_in(self, wait: bool) -> None:
        pending = self._pending
        if pending is None or not (wait or pending.done()):
            return
        self._pending = None
        rows, started = pending.result()  # a failed load raises here, in the script thread that shows the queue
        if started >= self._loaded_at:
            # Rows decided before the load began are gone from it; later ones are still in `_decided`.
            self._rows, self._loaded_at = rows, started
