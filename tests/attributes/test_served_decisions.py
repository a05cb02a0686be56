"""A merchandiser's correction is what the next model serves for that item, not the value the text suggests."""

from __future__ import annotations

from core.data.workspace import Workspace
from core.services import attributes as svc
from tests.attributes.conftest import FAST, make_workspace, run_training_job, synthetic_catalogue


def _train(ws: Workspace, **params: object) -> None:
    info = run_training_job(ws, **params)
    assert info.status == "done", info.error


def test_a_corrected_item_is_served_its_corrected_value_after_retraining(atelier_home) -> None:
    # The trap: the text says "solid", the merchandiser knows better; one label must not lose to the text.
    ws = make_workspace(atelier_home / "workspaces", "served", synthetic_catalogue(240, seed=3, missing=0.2))
    # Without a held-out score the automatic rule keeps the live version;
    # the merchandiser's retrain goes live on purpose.
    params = {**FAST, "baseline": False, "evaluate": False, "activate": True}
    _train(ws, **params)
    served = svc.require_active(ws).predictions("pattern").set_index("item_id")
    catalogue = ws.catalogue().set_index("item_id")
    item = next(i for i in served.index if served.loc[i, "predicted"] == catalogue.loc[i, "attr_pattern"]
                and served.loc[i, "probability"] > 0.8)
    old = served.loc[item, "predicted"]
    new_value = next(v for v in ("striped", "floral", "solid") if v != old)
    svc.decide(ws, item, "pattern", "correct", new_value, "ann", "served-1", seen_version=0)
    _train(ws, **params)
    after = svc.require_active(ws).predictions("pattern").set_index("item_id").loc[item]
    assert after["predicted"] == new_value and after["probability"] == 1.0 and after["reviewed"], after.to_dict()
    assert old in after["alternatives"]  # the network's own guess is still shown, as an alternative
