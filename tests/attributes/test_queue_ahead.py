"""The review queue loaded ahead: decided rows drop out without a query, the next rows load before they are needed."""

from __future__ import annotations

import threading

import pandas as pd

from core import auth
from core.data.workspace import Workspace
from core.services import attributes as svc
from core.services.queue_ahead import QueueAhead
from tests.attributes.conftest import FAST, run_training_job


class _Queue:
    """A queue of `n` items whose loads are counted; `taken` items (decided in the database) are not returned."""

    def __init__(self, n: int) -> None:
        self.items = [f"i{k:03d}" for k in range(n)]
        self.taken: set[str] = set()
        self.loads: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, size: int) -> pd.DataFrame:
        self.loads.append(size)
        self.threads.add(threading.current_thread().name)
        return pd.DataFrame({"item_id": [i for i in self.items if i not in self.taken][:size]})


def test_a_decision_drops_its_row_without_a_query_and_the_next_rows_load_in_the_background() -> None:
    source = _Queue(100)
    ahead = QueueAhead(source, shown=5, ahead=10)
    assert ahead.rows()["item_id"].tolist() == source.items[:5]
    for item in source.items[:6]:  # six decisions: each one shows the next card from the rows loaded
        source.taken.add(item)
        ahead.decided(item)
        assert ahead.rows()["item_id"].iloc[0] == source.items[source.items.index(item) + 1]
    assert source.loads == [15, 15]  # the first load, and one ahead once fewer than 2 × 5 were left (9)
    ahead.wait()
    assert any(name.startswith("queue-ahead") for name in source.threads)  # not on the reviewer's key press
    assert ahead.rows()["item_id"].tolist() == source.items[6:11]


def test_when_every_loaded_row_is_decided_the_next_ones_are_waited_for() -> None:
    source = _Queue(40)
    ahead = QueueAhead(source, shown=2, ahead=0)
    for item in source.items[:2]:
        source.taken.add(item)
        ahead.decided(item)
    assert ahead.rows()["item_id"].tolist() == source.items[2:4]


def test_a_short_queue_is_complete_and_never_loaded_again() -> None:
    source = _Queue(3)
    ahead = QueueAhead(source, shown=10)
    assert ahead.complete and len(ahead.rows()) == 3
    ahead.decided(source.items[0])
    assert ahead.rows()["item_id"].tolist() == source.items[1:] and source.loads == [30]


def test_old_rows_load_again_so_other_reviewers_decisions_show() -> None:
    source = _Queue(3)
    ahead = QueueAhead(source, shown=10, max_age_s=0.0)
    source.taken.add(source.items[0])  # someone else decided it
    ahead.rows()
    ahead.wait()
    assert ahead.rows()["item_id"].tolist() == source.items[1:]


def test_the_background_load_reads_as_the_signed_in_reviewer(attr_ws: Workspace) -> None:
    assert run_training_job(attr_ws, **FAST, baseline=False, refit=False).status == "done"
    active = svc.require_active(attr_ws)
    reviewer = auth.Actor(key="mia", iss="test", sub="mia", name="Mia", roles=frozenset({"merchandiser"}))
    auth.serve_team()  # a write or read with nobody bound is refused from here on, as in the team-mode web app
    try:
        with auth.acting_as(reviewer):
            ahead = QueueAhead(lambda n: svc.review_queue(attr_ws, active, "colour", "missing", limit=n), shown=2,
                               max_age_s=0.0)
            first = ahead.rows()
            row = first.iloc[0]
            svc.decide(attr_ws, row.item_id, "colour", "accept", row.predicted, "mia", "m-1")
            ahead.decided(row.item_id)
            ahead.wait()  # loaded in a worker thread, which must carry Mia's sign-in to read the decisions
            assert row.item_id not in ahead.rows()["item_id"].tolist()
    finally:
        auth._SERVING_TEAM.clear()
