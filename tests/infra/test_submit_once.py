"""A double click, Enter twice or a resubmitted form makes one training job, not two."""

from __future__ import annotations

import threading

from core.data.workspace import Workspace
from core.jobs import records
from core.services import jobs


class QueueOnly:
    """Starts nothing; counts the starts (one job started twice would train twice)."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def start(self, ws: Workspace, job_id: int, catalog: object) -> None:
        self.started.append(job_id)


def test_the_same_form_twice_is_one_job_started_once(ws: Workspace) -> None:
    backend = QueueOnly()
    params = {"params": {"epochs": 2}, "by": "ana"}
    first = jobs.submit(ws, "test_count", params, "ana", backend=backend)
    assert jobs.submit(ws, "test_count", params, "ana", backend=backend) == first
    assert backend.started == [first] and len(jobs.list_jobs(ws)) == 1
    assert jobs.submit(ws, "test_count", {**params, "params": {"epochs": 3}}, "ana", backend=backend) != first
    assert jobs.submit(ws, "test_count", params, "ben", backend=backend) != first  # someone else's own run


def test_after_the_run_finished_the_same_form_is_a_new_run(ws: Workspace) -> None:
    backend = QueueOnly()
    first = jobs.submit(ws, "test_count", {}, "ana", backend=backend)
    records.finish(ws, first, "done")
    second = jobs.submit(ws, "test_count", {}, "ana", backend=backend)
    assert second != first and backend.started == [first, second]


def test_two_clicks_arriving_at_once_make_one_job(ws: Workspace) -> None:
    backend, ids, barrier = QueueOnly(), [], threading.Barrier(6)

    def click() -> None:
        barrier.wait()
        ids.append(jobs.submit(ws, "test_count", {"steps": 1}, "ana", backend=backend))

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and len(backend.started) == 1 and len(jobs.list_jobs(ws)) == 1
