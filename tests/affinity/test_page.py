"""AppTest of the affinity training page on a planted workspace: form, job with both-direction curves, versions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.services import jobs
from core.models.affinity import AffinityParams
from core.services import affinity_training, models

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "affinity_training.py")


@pytest.fixture
def page_ws(planted_ws, monkeypatch):
    monkeypatch.setenv("ATELIER_WORKSPACE", planted_ws.name)
    return planted_ws


def _page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_page_shows_the_form_and_no_versions_yet(page_ws):
    at = _page()
    assert not at.exception
    assert [b.label for b in at.button if b.label == "Train"] == ["Train"]
    labels = [n.label for n in at.number_input]
    assert "Factors" in labels and "Iterations" in labels and "order" in labels
    assert any("No affinity version yet" in i.value for i in at.info)


def test_a_finished_job_shows_a_learning_curve_per_direction_and_its_version(page_ws):
    job_id = affinity_training.submit_training(page_ws, AffinityParams(n_factors=8, iterations=3), wait=True)
    at = _page({"job": str(job_id)})
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert sum("Brands for a user" in t for t in titles) == 1
    assert sum("Users for a brand" in t for t in titles) == 1
    version = jobs.get(page_ws, job_id).result["version"]
    assert models.active_version(page_ws, "affinity") == version  # the first version is activated
    assert any(version in df.value.to_csv() for df in at.dataframe)
    # which model ranks audiences, and every candidate's validation figure with the one that serves ticked
    side = affinity_training.load_model(page_ws).brand_side
    assert any(f"Customers are ranked by {side.label}" in m.value for m in at.markdown)
    candidates = next(df.value for df in at.dataframe if "serves" in df.value.columns)
    assert len(candidates) == 5 and (candidates["serves"] == "✓").sum() == 1
    served = candidates.loc[candidates["serves"] == "✓", "brand P@10 (validation)"].iloc[0]
    assert served == max(candidates["brand P@10 (validation)"])


@pytest.mark.slow
def test_pressing_train_starts_a_job_that_saves_a_version(page_ws):
    at = _page()
    next(n for n in at.number_input if n.label == "Iterations").set_value(2)
    next(n for n in at.number_input if n.label == "Factors").set_value(8)
    next(b for b in at.button if b.label == "Train").click()
    at.run()
    assert not at.exception
    job = jobs.latest(page_ws, affinity_training.KIND)
    assert job is not None and job.params["iterations"] == 2 and job.params["n_factors"] == 8
    deadline = time.monotonic() + 90
    while not jobs.get(page_ws, job.id).finished and time.monotonic() < deadline:
        time.sleep(0.5)
    done = jobs.get(page_ws, job.id)
    assert done.status == "done", done.error
    assert len(models.list_versions(page_ws, "affinity")) == 1


def test_the_both_direction_comparison_runs_as_a_job_and_shows_both_sides_per_model(page_ws):
    """It existed only in the CLI; a data scientist runs it from the page and reads both sides, per model."""
    from core.services import affinity_eval

    params = AffinityParams(n_factors=8, iterations=2)
    job_id = jobs.run_inline(page_ws, affinity_eval.KIND,
                             {"params": params.to_dict(), "models": ["popularity", "bidirectional", "als"],
                              "test_fraction": 0.2, "seed": 42, "tune": False, "by": "local"})
    result = jobs.get(page_ws, job_id).result
    assert set(result["models"]) == {"popularity", "bidirectional", "als"}
    table = affinity_eval.comparison_table(result)
    assert len(table) == 6 and set(table["side"]) == {"brands for a customer", "customers for a brand"}
    at = _page()
    assert not at.exception
    assert any("best audience ranker (customers for a brand)" in m.value for m in at.markdown)
    assert any(c.proto.spec and "customers for a brand" in c.proto.spec for c in at.get("plotly_chart"))
    wide = next(df.value for df in at.dataframe if "customers for a brand · precision@10" in df.value.columns)
    assert sorted(wide.index) == ["ALS (implicit)", "bi-directional", "popularity"]
    assert next(b for b in at.button if b.label == "Run the comparison")  # and a person can start one
