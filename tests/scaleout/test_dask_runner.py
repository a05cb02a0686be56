"""Jobs on a real Dask LocalCluster of worker processes: same results as the local runner, cancel, lost workers."""

# The tests that kill a worker come last: its replacement may take a while to start on a busy machine.

from __future__ import annotations

import os
import signal
import socket
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core import jobs
from core.db.models import AuditLog, Job, utcnow
from core.db.session import read_session, transaction
from core.errors import AtelierError
from core.jobs import cluster
from core.services import affinity_table
from core.services import jobs as job_service
from tests.scaleout.conftest import install_model, wait_finished
from tests.scaleout.targets import JOB_KINDS, set_env

SLOW = "test_count_slowly"


def _tables(ws) -> tuple[pd.DataFrame, pd.DataFrame]:
    return affinity_table.user_top_brands(ws), affinity_table.brand_top_users(ws)


def test_table_job_on_dask_equals_the_local_process_runner(demo_copy, dask_cluster, monkeypatch):
    install_model(demo_copy, n_users=3000, n_brands=50)
    params = {"k_brands": 5, "k_users": 40, "partition_users": 600}
    monkeypatch.delenv("ATELIER_DASK_SCHEDULER", raising=False)
    local = wait_finished(demo_copy, affinity_table.submit_scoring(demo_copy, params))
    assert (local.status, local.result["runner"], local.host) == ("done", "local", socket.gethostname())
    expected = _tables(demo_copy)

    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", dask_cluster.scheduler_address)
    remote = wait_finished(demo_copy, affinity_table.submit_scoring(demo_copy, params))
    assert remote.status == "done", remote.error
    assert remote.result["runner"] == "dask" and remote.host.startswith("tcp://127.0.0.1:")
    assert (remote.progress, remote.message) == (local.progress, local.message) == (1.0, "done")
    strip = ("seconds", "users_per_s", "runner")
    assert {k: v for k,
            v in remote.result.items() if k not in strip} == {k: v for k, v in local.result.items() if k not in strip}
    for got, want in zip(_tables(demo_copy), expected):
        pd.testing.assert_frame_equal(got, want)  # partitions scored on two workers: bit-identical Parquet content


def test_training_job_on_dask_equals_the_local_runner(demo_copy, on_dask, monkeypatch):
    from core.services.affinity_training import KIND as JOB_KIND
    from core.services import models as versions

    params = {"n_factors": 8, "iterations": 2, "test_fraction": 0.0, "num_threads": 1, "seed": 3, "activate": False}
    remote = wait_finished(demo_copy, job_service.submit(demo_copy, JOB_KIND, params))
    assert remote.status == "done", remote.error
    assert remote.host.startswith("tcp://")
    monkeypatch.delenv("ATELIER_DASK_SCHEDULER")
    local = jobs.get(demo_copy, job_service.run_inline(demo_copy, JOB_KIND, params))
    store = versions.store(demo_copy)
    a = store.load("affinity", remote.result["version"]).arrays
    b = store.load("affinity", local.result["version"]).arrays
    for name in ("user_factors", "brand_factors", "user_bias", "brand_bias"):
        np.testing.assert_array_equal(a[name], b[name])  # one LightFM thread and one seed: the same model


def test_cancel_on_dask_is_recorded_like_the_local_runner(demo_copy, on_dask):
    job_id = jobs.submit(demo_copy, SLOW, {"steps": 600, "delay": 0.05}, JOB_KINDS)
    wait_finished(demo_copy, job_id, until=lambda i: i.progress > 0)
    jobs.cancel(demo_copy, job_id, by="tester")
    info = wait_finished(demo_copy, job_id)
    assert (info.status, info.message, info.result) == ("cancelled", "cancelled", None)
    assert 0 < info.progress < 1 and info.metrics  # live metrics were kept up to the cancel


def test_a_job_whose_remote_worker_stopped_beating_shows_failed(demo_copy, monkeypatch):
    monkeypatch.delenv("ATELIER_DASK_SCHEDULER", raising=False)
    job_id = jobs.create(demo_copy, SLOW, {}, "tester")  # a record as a lost worker left it
    with transaction(demo_copy) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(
            status="running", host="tcp://10.1.2.3:40000", pid=4242, started_at=utcnow() - timedelta(minutes=10),
            heartbeat_at=utcnow() - timedelta(seconds=jobs.STALE_HEARTBEAT_S + 5)))
    info = jobs.get(demo_copy, job_id)
    assert info.status == "failed" and "no heartbeat from its worker tcp://10.1.2.3:40000" in info.error


def test_unreachable_scheduler_fails_the_job_and_says_what_to_do(demo_copy, monkeypatch):
    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(AtelierError,
                       match="cannot reach the Dask scheduler at tcp://127.0.0.1:9.*unset ATELIER_DASK_SCHEDULER"):
        jobs.submit(demo_copy, SLOW, {}, JOB_KINDS)
    info = jobs.list_jobs(demo_copy).iloc[0]
    assert info["status"] == "failed" and "cannot reach the Dask scheduler" in info["error"]


def test_cli_status_and_scoring_against_the_cluster(demo_copy, on_dask, capsys):
    import json

    from core.cli import main

    assert main(["scaleout", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["runner"] == "dask" and status["threads"] == status["n_workers"] == len(status["workers"]) >= 1
    install_model(demo_copy, n_users=900, n_brands=15)
    assert main(["scaleout", "score-table", "--workspace", str(demo_copy.path), "--k-users", "7",
                 "--partition-users", "300", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["runner"], result["partitions"], result["k_brands"]) == ("dask", 3, 10)


def test_a_worker_on_another_database_refuses_the_job(demo_copy, on_dask, tmp_path):
    client = cluster.get_client()
    client.run(set_env, "DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    try:
        info = wait_finished(demo_copy, jobs.submit(demo_copy, SLOW, {"steps": 2}, JOB_KINDS))
    finally:
        client.run(set_env, "DATABASE_URL", None)
    assert info.status == "failed" and info.started_at is None  # refused before it ran anything
    assert "writes to a different database than the app" in info.error and "DATABASE_URL" in info.error


@pytest.mark.postgres
def test_table_job_on_dask_with_postgresql(demo_copy, on_dask, monkeypatch):
    import uuid

    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks
    from tests.db.conftest import PG_ADMIN_URL, _postgres_reachable

    if not _postgres_reachable():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    client = cluster.get_client()
    monkeypatch.setenv("DATABASE_URL", url)
    client.run(set_env, "DATABASE_URL", url)  # the team starts its workers with the app's URL
    forget_schema_checks()
    try:
        install_model(demo_copy, n_users=1200, n_brands=20)
        params = {"k_brands": 4, "k_users": 10, "partition_users": 300}
        remote = wait_finished(demo_copy, affinity_table.submit_scoring(demo_copy, params))
        assert remote.status == "done" and remote.host.startswith("tcp://"), remote.error
        expected = _tables(demo_copy)
        monkeypatch.delenv("ATELIER_DASK_SCHEDULER")
        local = jobs.get(demo_copy, job_service.run_inline(demo_copy, affinity_table.KIND, params))
        assert local.status == "done" and local.result["runner"] == "local"
        for got, want in zip(_tables(demo_copy), expected):
            pd.testing.assert_frame_equal(got, want)
        with read_session(demo_copy) as session:  # both records live in the shared PostgreSQL
            assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 2
    finally:
        client.run(set_env, "DATABASE_URL", None)
        dispose_engines()
        forget_schema_checks()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()



def test_worker_killed_mid_job_is_recovered_on_another_worker(demo_copy, on_dask):
    job_id = jobs.submit(demo_copy, SLOW, {"steps": 40, "delay": 0.1}, JOB_KINDS)
    running = wait_finished(demo_copy, job_id, until=lambda i: i.progress >= 0.2)
    assert not running.finished, "the job finished before the worker could be killed; make it slower"
    os.kill(running.pid, signal.SIGKILL)  # the worker process running the job, as recorded in the job row
    info = wait_finished(demo_copy, job_id, timeout=180)
    print(f"\nkilled worker {running.host} (pid {running.pid}) at {running.progress:.0%}; "
          f"job {info.status} on {info.host} (pid {info.pid})")
    assert info.status == "done", info.error
    assert info.result == {"total": sum(range(40)), "steps": 40} and info.pid != running.pid
    with read_session(demo_copy) as session:
        restarts = session.scalars(sa.select(AuditLog).where(AuditLog.action == "restart_job")).all()
    assert [(r.target, r.details["lost_worker"]) for r in restarts] == [(f"job {job_id}", running.host)]


def test_worker_lost_for_good_fails_the_job_cleanly(demo_copy, on_dask, dask_cluster):
    client = cluster.get_client()
    previous = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
    try:
        job_id = jobs.submit(demo_copy, SLOW, {"steps": 40, "delay": 0.1}, JOB_KINDS)
        running = wait_finished(demo_copy, job_id, until=lambda i: i.progress >= 0.1)
        os.kill(running.pid, signal.SIGKILL)
        info = wait_finished(demo_copy, job_id, timeout=180)
    finally:
        client.run_on_scheduler(lambda dask_scheduler, n=previous: setattr(dask_scheduler, "allowed_failures", n))
    print(f"\nworker lost with no retries allowed: job {info.status}: {info.message}")
    assert info.status == "failed" and info.result is None
    assert "the Dask cluster gave up on it" in info.error and "submit again" in info.error


def test_lost_part_of_a_fan_out_is_recomputed(on_dask):
    from tests.scaleout.targets import slow_square

    client = cluster.get_client()
    client.wait_for_workers(2, timeout=180)  # an earlier test killed one: its nanny starts a fresh one
    pids = client.run(os.getpid)
    seen: dict[int, int] = {}
    killed = None
    for i, (value, pid) in cluster.fan_out(slow_square, [(i, 0.4) for i in range(10)], name="test-squares"):
        seen[i] = value
        if killed is None:
            killed = next(p for p in pids.values() if p != pid)  # the other worker, most likely mid-part
            os.kill(killed, signal.SIGKILL)
    assert seen == {i: i * i for i in range(10)}
