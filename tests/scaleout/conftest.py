"""A real Dask LocalCluster (2 worker processes, 1 thread each, loopback, no dashboard) shared by this folder."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator["distributed.LocalCluster"]:  # noqa: F821
    from distributed import LocalCluster

    from core.jobs import cluster as jobs_cluster

    # Workers inherit the environment at spawn: the repo must be importable there, and they must write to the
    # same database the tests read (SQLite inside the workspace), not a DATABASE_URL the CI may have set.
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "DATABASE_URL")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ.pop("DATABASE_URL", None)
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               host="127.0.0.1", silence_logs=logging.CRITICAL)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield cluster
    jobs_cluster.close_clients()
    cluster.close()


@pytest.fixture
def on_dask(dask_cluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """ATELIER_DASK_SCHEDULER pointing at the test cluster, with a worker up; returns its address."""
    from core.jobs import cluster

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", dask_cluster.scheduler_address)
    cluster.get_client().wait_for_workers(1, timeout=120)
    return dask_cluster.scheduler_address


def install_model(ws, n_users: int = 3000, n_brands: int = 60, d: int = 16, seed: int = 7):  # -> AffinityModel
    """Save, register and activate a random affinity model (scoring needs no training to be checked)."""
    from core.data.idmap import IdMap
    from core.models.affinity import AffinityModel
    from core.services.affinity_training import KIND as ARTIFACT_KIND
    from core.services import models as versions

    rng = np.random.default_rng(seed)
    model = AffinityModel(IdMap.from_values([f"u{i:06d}" for i in range(n_users)]),
                          IdMap.from_values([f"b{i:04d}" for i in range(n_brands)]),
                          rng.normal(size=(n_users, d)).astype(np.float32),
                          rng.normal(size=(n_brands, d)).astype(np.float32),
                          (rng.normal(size=n_users) * 0.1).astype(np.float32),
                          rng.normal(size=n_brands).astype(np.float32))
    version = versions.store(ws).save(ARTIFACT_KIND, *model.to_artifact())
    versions.register_version(ws, ARTIFACT_KIND, version, {}, "test")
    versions.activate(ws, ARTIFACT_KIND, version, "test")
    return model


def wait_finished(ws, job_id: int, timeout: float = 90.0, until=None):  # -> JobInfo
    """Poll the job record (as a page does) until it finished, or `until(info)` holds."""
    from core import jobs

    deadline = time.monotonic() + timeout
    while True:
        info = jobs.get(ws, job_id)
        if info.finished or (until is not None and until(info)):
            return info
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {info.status} after {timeout:.0f} s: {info.message}")
        time.sleep(0.1)
