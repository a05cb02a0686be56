"""`demo --train-models`: one background job trains every model, so a first launch opens on working pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.demo import generate_demo
from core.services.affinity_training import KIND as ARTIFACT_KIND
from core.services import affinity_training, jobs, models, starter_models

KINDS = (ARTIFACT_KIND, "complementary", "attributes", "long_tail")


def no_such_module(ws, params, progress):  # a step whose model cannot even be loaded
    raise ModuleNotFoundError("No module named 'core.services.no_such_module'")


@pytest.mark.slow  # four trainings on a tiny demo: ~40 s on 2 cores
def test_one_job_trains_and_activates_every_model(atelier_home: Path) -> None:
    ws = generate_demo(atelier_home / "workspaces" / "demo", size="tiny", seed=3)
    assert all(models.active_version(ws, kind) is None for kind in KINDS)
    job_id = jobs.run_inline(ws, starter_models.KIND, {"by": "local"})
    info = jobs.get(ws, job_id)
    assert info.status == "done", info
    assert info.progress == 1.0 and info.message == "4 of 4 models trained"
    assert all(models.active_version(ws, kind) is not None for kind in KINDS)


def test_a_failing_model_is_reported_and_the_next_one_still_trains(atelier_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ws = generate_demo(atelier_home / "workspaces" / "demo", size="tiny", seed=3)
    monkeypatch.setattr(starter_models, "STEPS", (
        ("broken model", no_such_module, 0.5),
        ("brand affinity", affinity_training.train_affinity, 0.5),
    ))
    job_id = jobs.run_inline(ws, starter_models.KIND, {"by": "local"})
    info = jobs.get(ws, job_id)
    assert info.status == "done"
    assert "1 of 2 models trained; failed: broken model" in info.message
    assert "no_such_module" in info.result["broken model"]["error"]
    assert models.active_version(ws, ARTIFACT_KIND) == info.result["brand affinity"]["version"]


def test_nothing_trained_fails_the_job_with_every_reason(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = generate_demo(atelier_home / "workspaces" / "demo", size="tiny", seed=3)
    monkeypatch.setattr(starter_models, "STEPS", (("broken model", no_such_module, 1.0),))
    with pytest.raises(RuntimeError, match="no model could be trained: broken model"):
        jobs.run_inline(ws, starter_models.KIND, {"by": "local"})
    assert jobs.latest(ws, starter_models.KIND).status == "failed"


def test_demo_command_queues_the_job_only_when_asked(atelier_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main as cli_main

    queued: list[str] = []
    monkeypatch.setattr(starter_models, "submit", lambda ws, by="local": queued.append(ws.name) or 7)
    out = atelier_home / "workspaces" / "demo"
    assert cli_main(["demo", "--size", "tiny", "--out", str(out)]) == 0
    assert queued == [] and "background" not in capsys.readouterr().out
    assert cli_main(["demo", "--size", "tiny", "--out", str(out), "--force", "--train-models"]) == 0
    assert queued == ["demo"] and "job 7" in capsys.readouterr().out
    assert cli_main(["demo", "--out", str(out), "--if-missing", "--train-models"]) == 0  # second launch: nothing
    assert queued == ["demo"]
