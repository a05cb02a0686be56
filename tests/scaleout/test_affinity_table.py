"""Full affinity-table scoring on the local runner: exact against the model, all-or-nothing, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import jobs
from core.errors import AtelierError, JobCancelled
from core.services import affinity_table
from tests.scaleout.conftest import install_model


def _ids(series) -> np.ndarray:
    return np.asarray(series.astype(str), dtype=object)


def test_table_matches_the_model_in_both_directions(demo_copy):
    model = install_model(demo_copy, n_users=2500, n_brands=40)
    summary = affinity_table.score_table(demo_copy, {"k_brands": 5, "k_users": 30, "partition_users": 700})
    assert (summary.partitions, summary.runner, summary.n_users) == (4, "local", 2500)

    users = affinity_table.user_top_brands(demo_copy)
    idx, scores = model.top_brands_for_users(5)
    assert len(users) == 2500 * 5
    np.testing.assert_array_equal(_ids(users["user_id"]), np.repeat(model.user_ids.to_array(), 5))
    np.testing.assert_array_equal(_ids(users["brand_id"]).reshape(2500, 5), model.brand_ids.to_array()[idx])
    np.testing.assert_allclose(users["score"].to_numpy().reshape(2500, 5), scores, rtol=1e-5, atol=1e-5)

    brands = affinity_table.brand_top_users(demo_copy)
    for b in (0, 17, 39):  # the partition merge must give the exact global top users of a brand
        expected = model.user_ids.to_array()[np.argsort(-model.scores_for_brand(b), kind="stable")[:30]]
        rows = brands[_ids(brands["brand_id"]) == model.brand_ids.to_array()[b]]
        np.testing.assert_array_equal(_ids(rows["user_id"]), expected)
        assert rows["rank"].tolist() == list(range(1, 31))


def test_partition_size_and_threads_do_not_change_the_ranking(demo_copy):
    # Other partition sizes put a user at another row of a BLAS block: its float32 score may differ in the last bit.
    install_model(demo_copy, n_users=1800, n_brands=25)
    affinity_table.score_table(demo_copy, {"k_brands": 4, "k_users": 50, "partition_users": 1800, "local_threads": 1})
    one = affinity_table.user_top_brands(demo_copy), affinity_table.brand_top_users(demo_copy)
    affinity_table.score_table(demo_copy, {"k_brands": 4, "k_users": 50, "partition_users": 333, "local_threads": 2})
    many = affinity_table.user_top_brands(demo_copy), affinity_table.brand_top_users(demo_copy)
    for a, b in zip(one, many):
        assert a[["user_id", "rank", "brand_id"]].astype(str).equals(b[["user_id", "rank", "brand_id"]].astype(str))
        np.testing.assert_allclose(a["score"], b["score"], rtol=1e-6)


def test_manifest_checksums_guard_the_files(demo_copy):
    install_model(demo_copy, n_users=500, n_brands=10)
    summary = affinity_table.score_table(demo_copy, {"k_brands": 3, "k_users": 5, "partition_users": 200})
    manifest = affinity_table.read_manifest(demo_copy)
    assert sorted(manifest["files"]) == ["brand_top_users.parquet",
                                         *[f"user_top_brands/part-{i:05d}.parquet" for i in range(3)]]
    part = demo_copy.path / "affinity_table" / summary.version / "user_top_brands" / "part-00001.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    with pytest.raises(AtelierError, match="missing or changed: score the table again"):
        affinity_table.user_top_brands(demo_copy)


def test_cancelled_scoring_leaves_nothing_half_written(demo_copy):
    install_model(demo_copy, n_users=1200, n_brands=10)
    affinity_table.score_table(demo_copy, {"k_brands": 3, "k_users": 5, "partition_users": 1200})
    before = affinity_table.read_manifest(demo_copy)

    class CancelAfterOne:
        def update(self, fraction, message="", metrics=None):
            if fraction > 0:
                raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        affinity_table.score_table(demo_copy, {"k_brands": 2, "k_users": 5, "partition_users": 100}, CancelAfterOne())
    root = demo_copy.path / "affinity_table"
    assert [p.name for p in root.iterdir()] == [before["version"]]  # no staging folder left behind
    assert affinity_table.read_manifest(demo_copy) == before  # the previous table still serves, unchanged


def test_bad_parameters_and_missing_model_say_what_to_do(demo_copy):
    with pytest.raises(AtelierError, match="no active affinity model: train one"):
        affinity_table.score_table(demo_copy, {})
    with pytest.raises(AtelierError, match=r"k_brands must be a whole number ≥ 1 \(got 0\).*partition_users"):
        affinity_table.table_params({"k_brands": 0, "partition_users": "many"})
    with pytest.raises(AtelierError, match="no affinity table"):
        affinity_table.read_manifest(demo_copy)


def test_cli_scores_as_a_tracked_job_and_shows_rows(demo_copy, capsys, monkeypatch):
    from core.cli import main

    monkeypatch.delenv("ATELIER_DASK_SCHEDULER", raising=False)
    model = install_model(demo_copy, n_users=600, n_brands=12)
    assert main(["scaleout", "score-table", "--workspace", str(demo_copy.path), "--k-brands", "3", "--k-users", "4",
                 "--partition-users", "250", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["runner"], result["partitions"], result["n_users"]) == ("local", 3, 600)
    assert jobs.get(demo_copy, result["job_id"]).status == "done"
    user = model.user_ids.to_array()[5]
    assert main(["scaleout", "show", "--workspace", str(demo_copy.path), "--user", user, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in rows] == [1, 2, 3] and {r["user_id"] for r in rows} == {user}
    assert main(["scaleout", "show", "--workspace", str(demo_copy.path), "--brand", "no-such-brand"]) == 2
    assert "not in the scored table" in capsys.readouterr().err
    assert main(["scaleout", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runner"] == "local"
