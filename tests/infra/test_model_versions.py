"""Model versions: register, activate, serve the active one, fall back to the last good one when it is damaged."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.models import AuditLog
from core.db.session import read_session
from core.errors import ArtifactError, UnknownIdError
from core.services import models


def _train(ws: Workspace, seed: int, auc: float) -> str:
    arrays = {"w": np.random.default_rng(seed).normal(size=(20, 4)).astype(np.float32)}
    version = models.store(ws).save("affinity", arrays, {"params": {"seed": seed}, "metrics": {"auc": auc}})
    models.register_version(ws, "affinity", version, {"auc": auc, "ndcg": {"at10": auc / 2}}, by="ds")
    return version


def test_activate_and_load_active(ws: Workspace) -> None:
    assert models.active_version(ws, "affinity") is None and models.load_active(ws, "affinity") is None
    v1 = _train(ws, 1, 0.7)
    assert models.active_version(ws, "affinity") is None  # registering does not activate
    models.activate(ws, "affinity", v1, by="ana")
    assert models.active_version(ws, "affinity") == v1
    artifact = models.load_active(ws, "affinity")
    assert artifact.version == v1 and artifact.warning is None
    with read_session(ws) as session:
        actions = session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["register_model", "activate_model"]


def test_register_is_idempotent_and_checks_files(ws: Workspace) -> None:
    v1 = _train(ws, 1, 0.7)
    models.register_version(ws, "affinity", v1, {"auc": 0.7}, by="ds")
    assert len(models.list_versions(ws, "affinity")) == 1
    with pytest.raises(ArtifactError, match="does not exist"):
        models.register_version(ws, "affinity", "20260101T000000000000Z-0123456789abcdef", {}, by="ds")
    with pytest.raises(UnknownIdError, match="not registered"):
        unregistered = models.store(ws).save("affinity", {"w": np.zeros(2)}, {})
        models.activate(ws, "affinity", unregistered, by="ana")


def test_damaged_active_version_falls_back_with_a_warning(ws: Workspace) -> None:
    v1, v2 = _train(ws, 1, 0.7), _train(ws, 2, 0.8)
    models.activate(ws, "affinity", v1, by="ana")
    models.activate(ws, "affinity", v2, by="ana")
    path = ws.artifacts_path / "affinity" / v2 / "w.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="previous good version"):
        artifact = models.load_active(ws, "affinity")
    assert artifact.version == v1 and v2 in artifact.warning
    assert models.active_version(ws, "affinity") == v2  # nobody decided to switch: it is only served instead
    with pytest.raises(ArtifactError, match="sha256"):
        models.activate(ws, "affinity", v2, by="ana")  # a damaged version cannot be (re)activated


def test_no_good_version_raises(ws: Workspace) -> None:
    v1 = _train(ws, 1, 0.7)
    models.activate(ws, "affinity", v1, by="ana")
    (ws.artifacts_path / "affinity" / v1 / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="no affinity version can be served"):
        models.load_active(ws, "affinity")


def test_list_versions_puts_metrics_side_by_side(ws: Workspace) -> None:
    v1, v2 = _train(ws, 1, 0.7), _train(ws, 2, 0.8)
    models.activate(ws, "affinity", v2, by="ana")
    frame = models.list_versions(ws, "affinity")
    assert list(frame["version"]) == [v2, v1]  # newest first
    assert list(frame["active"]) == [True, False]
    assert list(frame["auc"]) == [0.8, 0.7] and list(frame["ndcg.at10"]) == [0.4, 0.35]
