"""AppTests of the job panel and the versions panel on a real workspace database."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from core import jobs
from core.data.workspace import Workspace
from core.services import models
from tests.infra.job_targets import JOB_KINDS


def _job_page(path: str, job_id: int | None, kind: str | None) -> None:
    from core.data.workspace import Workspace
    from ui.jobs import job_panel

    job_panel(Workspace.open(path), job_id, kind=kind)


def _versions_page(path: str, kind: str) -> None:
    from core.data.workspace import Workspace
    from ui.versions import versions_panel

    versions_panel(Workspace.open(path), kind)


def _run(script, *args, query: dict | None = None) -> AppTest:
    at = AppTest.from_function(script, args=args, default_timeout=30)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_done_job_shows_metrics_curve_and_result(ws: Workspace) -> None:
    job_id = jobs.run_inline(ws, "test_count", {"steps": 3}, JOB_KINDS)
    at = _run(_job_page, str(ws.path), job_id, None)
    assert not at.exception
    assert any(f"Job #{job_id}" in m.value and "done" in m.value for m in at.markdown)
    assert [m.label for m in at.metric] == ["loss"] and at.metric[0].value == "0.3333"
    assert len(at.get("plotly_chart")) == 1
    assert not [b for b in at.button if b.label == "Cancel"]  # nothing to cancel once done
    assert at.query_params["job"] == str(job_id)  # kept in the URL for a refresh


def test_failed_job_shows_its_error(ws: Workspace) -> None:
    try:
        jobs.run_inline(ws, "test_boom", {}, JOB_KINDS)
    except ValueError:
        pass
    at = _run(_job_page, str(ws.path), jobs.latest(ws, "test_boom").id, None)
    assert any("planted failure 42" in e.value for e in at.error)


def test_refresh_finds_the_job_from_the_url_or_the_running_one(ws: Workspace) -> None:
    queued = jobs.create(ws, "test_count", {}, "ana")  # stays queued: no worker
    # A refresh: no job id passed, the URL has it.
    at = _run(_job_page, str(ws.path), None, "test_count", query={"job": str(queued)})
    assert any(f"Job #{queued}" in m.value for m in at.markdown)
    # A second person opening the page: the newest active job of the kind.
    at = _run(_job_page, str(ws.path), None, "test_count")
    assert any(f"Job #{queued}" in m.value and "queued" in m.value for m in at.markdown)
    at.button(key=f"cancel_job_{queued}").click().run()
    assert jobs.get(ws, queued).status == "cancelled"


def test_versions_panel_compares_and_activates(ws: Workspace) -> None:
    store = models.store(ws)
    made = []
    for seed, auc in ((1, 0.70), (2, 0.78)):
        version = store.save("affinity", {"w": np.full(3, seed, dtype=np.float32)}, {})
        models.register_version(ws, "affinity", version, {"auc": auc, "ndcg@10": auc / 3}, by="ds")
        made.append(version)
    at = _run(_versions_page, str(ws.path), "affinity")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["version"]) == made[::-1] and list(table["auc"]) == [0.78, 0.70]
    assert [n.split(" · ")[0] for n in table["name"]] == ["affinity v2", "affinity v1"]
    comparison = at.dataframe[1].value
    assert abs(comparison.loc["auc", "change"] - (0.70 - 0.78)) < 1e-9
    serve(at).select(made[0]).run()
    at.button(key="activate_affinity").click().run()
    assert models.active_version(ws, "affinity") == made[0]


def serve(at: AppTest):  # the "Version to serve" selectbox
    return next(box for box in at.selectbox if box.label == "Version to serve")


def test_versions_panel_lists_a_version_trained_meanwhile_and_shows_the_live_one(ws: Workspace) -> None:
    """Regression: after a training job finished, Compare listed only the old versions and Version to serve showed
    an old inactive version with Activate enabled (one click reverted production)."""
    store = models.store(ws)
    made = []
    for seed in (1, 2):
        made.append(store.save("affinity", {"w": np.full(3, seed, dtype=np.float32)}, {}))
        models.register_version(ws, "affinity", made[-1], {"auc": 0.7 + seed / 100}, by="ds")
    models.activate(ws, "affinity", made[0], "ds")
    at = _run(_versions_page, str(ws.path), "affinity")
    serve(at).select(made[1]).run()  # someone looks at the other version without activating it
    made.append(store.save("affinity", {"w": np.full(3, 3, dtype=np.float32)}, {}))  # a job finishes meanwhile
    models.register_version(ws, "affinity", made[-1], {"auc": 0.75}, by="job")
    models.activate(ws, "affinity", made[-1], "job")
    at.run()
    compare = next(box for box in at.multiselect if box.label == "Compare two versions")
    assert compare.options == [models.list_versions(ws, "affinity")["name"][i] + (" (live)" if i == 0 else "")
                               for i in range(3)]
    assert compare.value == made[:0:-1]  # the two newest
    assert serve(at).value == made[-1] and serve(at).options[0].endswith("(live)")
    assert at.button(key="activate_affinity").disabled


def test_a_held_back_candidate_is_shown_beside_the_live_version(ws: Workspace) -> None:
    from core.services import promotion

    store, made = models.store(ws), []
    for seed, auc in ((1, 0.81), (2, 0.70)):
        held_out = promotion.HeldOut({"auc": auc}, {"auc": 2000}, "one split")
        made.append(store.save("affinity", {"w": np.full(3, seed, dtype=np.float32)},
                               {"held_out": held_out.to_dict()}))
        models.register_version(ws, "affinity", made[-1], {"auc": auc}, by="job")
        promotion.promote(ws, "affinity", made[-1], held_out, "job")
    assert models.active_version(ws, "affinity") == made[0]
    at = _run(_versions_page, str(ws.path), "affinity")
    warning = at.warning[0].value
    assert "affinity v2" in warning and "was not made live" in warning and "auc 0.700 vs live 0.810" in warning
    compare = next(box for box in at.multiselect if box.label == "Compare two versions")
    assert compare.value == [made[1], made[0]]
    assert serve(at).value == made[0] and serve(at).options[1].endswith("(live)")


def test_job_charts_put_losses_throughput_and_scores_on_their_own_axes() -> None:
    """Regression: one axis for everything, items/s up to 18k flattened every other line, iteration drawn too."""
    from ui.jobs import metric_panels, metrics_figure

    points = [{"step": i, "epoch": i, "train_loss": 1 / (i + 1), "val_loss": 1.2 / (i + 1), "items_per_s": 18_000.0,
               "val_cosine": 0.5 + i / 10, "iteration": i} for i in range(3)]
    assert metric_panels(points) == {"losses": ["train_loss", "val_loss"], "throughput": ["items_per_s"],
                                     "metrics": ["val_cosine"]}
    figure = metrics_figure(points)
    assert [a.text for a in figure.layout.annotations] == ["losses", "throughput", "metrics"]
    assert {t.name: t.yaxis for t in figure.data} == {"train_loss": "y", "val_loss": "y", "items_per_s": "y2",
                                                      "val_cosine": "y3"}
