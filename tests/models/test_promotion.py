"""Champion/challenger: a retrain goes live only when not worse beyond noise; each decision is audited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.models import AuditLog
from core.db.session import read_session
from core.services import jobs, models, outfit_training, outfits, promotion
from core.services.promotion import HeldOut, decide
from tests.complementary.conftest import make_workspace, synthetic_outfits
from tests.complementary.test_training import FAST

SPLIT = "same-cases"


def figures(auc: float, fitb: float, n: int = 1000, split: str = SPLIT) -> HeldOut:
    return HeldOut({"pair_auc": auc, "fitb_accuracy": fitb}, {"pair_auc": n, "fitb_accuracy": n}, split)


def test_the_rule_lets_noise_through_and_holds_a_real_drop_back() -> None:
    live = figures(0.807, 0.744)
    assert decide(figures(0.800, 0.740), live)[0]  # within one standard error (≈0.012 and 0.014 at n=1000)
    go, reason, rows = decide(figures(0.786, 0.713), live)  # the retrain: both drop ≥ 0.02
    assert not go and "pair_auc 0.786 vs live 0.807" in reason and "fitb_accuracy" in reason
    assert [r["metric"] for r in rows] == ["pair_auc", "fitb_accuracy"]
    assert decide(figures(0.9, 0.9), None)[0]  # nothing live: anything goes live
    go, reason, _ = decide(figures(0.9, 0.9, split="other cases"), live)
    assert not go and "another held-out set" in reason
    assert not decide(None, live)[0]


@pytest.fixture
def ws(atelier_home: Path, tmp_path: Path) -> Workspace:
    catalogue, outfit_rows = synthetic_outfits()
    return make_workspace(tmp_path, "w", catalogue, outfit_rows)


def _version(ws: Workspace, held_out: HeldOut, seed: int) -> str:
    version = models.store(ws).save(outfits.KIND, {"w": np.full(2, seed, dtype=np.float32)},
                                    {"held_out": held_out.to_dict()})
    models.register_version(ws, outfits.KIND, version, held_out.metrics, by="job")
    return version


def _audit(ws: Workspace, action: str) -> list[dict]:
    with read_session(ws) as session:
        return [dict(r.details) for r in session.scalars(
            sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_a_worse_retrain_is_held_back_audited_and_a_person_can_still_activate_it(ws: Workspace) -> None:
    first = _version(ws, figures(0.807, 0.744), 1)
    assert promotion.promote(ws, outfits.KIND, first, figures(0.807, 0.744), "job").activated
    worse = _version(ws, figures(0.786, 0.713), 2)
    decision = promotion.promote(ws, outfits.KIND, worse, figures(0.786, 0.713), "job")
    assert not decision.activated and decision.live == first
    assert models.active_version(ws, outfits.KIND) == first  # production did not move
    assert promotion.latest_promotion(ws, outfits.KIND) == decision
    models.activate(ws, outfits.KIND, worse, by="ds")  # a person decides after comparing
    activation = _audit(ws, "activate_model")[-1]
    assert activation["previous"] == first and activation["metrics"]["pair_auc"] == pytest.approx(0.786)
    assert activation["previous_metrics"]["pair_auc"] == pytest.approx(0.807)
    better = _version(ws, figures(0.790, 0.720), 3)
    assert promotion.promote(ws, outfits.KIND, better, figures(0.790, 0.720), "job").activated
    assert _audit(ws, "activate_model")[-1]["rows"][0]["live"] == pytest.approx(0.786)  # the figures it saw


def test_every_training_job_reports_its_promotion_and_serves_accordingly(ws: Workspace) -> None:
    first = jobs.get(ws, outfit_training.submit_training(ws, FAST, "local", inline=True)).result
    assert first["promotion"]["activated"] and first["promotion"]["reason"] == "nothing was live to compare with"
    second = jobs.get(ws, outfit_training.submit_training(ws, FAST, "local", inline=True)).result
    assert second["promotion"]["live"] == first["version"] and second["promotion"]["rows"]
    served = models.active_version(ws, outfits.KIND)
    assert served == (second["version"] if second["promotion"]["activated"] else first["version"])
    held = outfit_training.submit_training(ws, FAST, "local", inline=True, activate=False)
    assert not jobs.get(ws, held).result["promotion"]["activated"]
    assert models.active_version(ws, outfits.KIND) == served
