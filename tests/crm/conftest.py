"""Fixtures for the CRM area: a tiny planted affinity model whose right audiences are known, in a workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pytest

from core.data.idmap import IdMap
from core.data.workspace import Workspace
from core.models.affinity import AffinityModel
from core.services.affinity_training import KIND as ARTIFACT_KIND

N_USERS = 200
BRANDS = ("acme", "beta", "=cmd", "delta")
LATEST = pd.Timestamp("2024-06-30 12:00", tz="UTC")


def user_id(i: int) -> str:
    return f"u{i:03d}"


def planted_model(n_users: int = N_USERS) -> AffinityModel:
    """2-d factors, zero biases. acme = (1, 0): affinity falls with the user index, so acme's top-N is u000..u(N-1).
    beta = (0, 1): affinity rises with the index, so beta's top-N is the last N users. "=cmd" and delta are
    weaker mixes (a formula-like brand id, to check that exports escape it)."""
    i = np.arange(n_users, dtype=np.float32)
    users = np.stack([(n_users - i) / n_users, (i + 1) / n_users], axis=1)
    brands = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.3], [0.2, 0.1]], dtype=np.float32)
    return AffinityModel(IdMap(np.array([user_id(k) for k in range(n_users)], dtype=object)),
                         IdMap(np.array(BRANDS, dtype=object)), users, brands,
                         np.zeros(n_users, np.float32), np.zeros(len(BRANDS), np.float32))


def planted_interactions() -> pd.DataFrame:
    """u000 ordered acme 3 days before the latest event, u001 120 days before; u002 viewed acme once;
    everyone else has 3 views of delta (activity 3), u000/u001 have 1 extra order each."""
    rows = [(user_id(k), f"i{k}", "delta", "view", 1.0, LATEST - pd.Timedelta(days=10 + j))
            for k in range(N_USERS) for j in range(3)]
    rows += [("u000", "i-a1", "acme", "order", 8.0, LATEST - pd.Timedelta(days=3)),
             ("u001", "i-a2", "acme", "order", 8.0, LATEST - pd.Timedelta(days=120)),
             ("u002", "i-a3", "acme", "view", 1.0, LATEST),
             ("u005", "i-b1", "beta", "click", 1.5, LATEST - pd.Timedelta(days=1))]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "brand_id", "event", "weight", "timestamp"])
    frame["weight"] = frame["weight"].astype(np.float32)
    # u199 has a single event, so min_activity=2 removes exactly u199 (beta's best user).
    recent_u199 = (frame.user_id == "u199") & (frame.timestamp < LATEST - pd.Timedelta(days=10))
    return frame[~recent_u199].reset_index(drop=True)


def planted_customers() -> pd.DataFrame:
    """u003 unsubscribed, u004 bounced, u006 test account; the rest may be contacted."""
    ids = [user_id(k) for k in range(N_USERS)]
    return pd.DataFrame({"user_id": ids, "unsubscribed": [u == "u003" for u in ids],
                         "bounced": [u == "u004" for u in ids], "test_account": [u == "u006" for u in ids]})


def save_model(ws: Workspace, model: AffinityModel) -> str:
    """Save, register and activate a model version (what the training service does at the end)."""
    from core.services import models as versions

    version = versions.store(ws).save(ARTIFACT_KIND, *model.to_artifact())
    versions.register_version(ws, ARTIFACT_KIND, version, {"planted": 1.0}, by="test")
    versions.activate(ws, ARTIFACT_KIND, version, by="test")
    return version


def make_crm_workspace(root: Path, name: str = "crm", with_model: bool = True) -> Workspace:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "workspace.json").write_text(json.dumps({"name": name}), encoding="utf-8")
    planted_interactions().to_parquet(path / "interactions.parquet", index=False)
    planted_customers().to_parquet(path / "customers.parquet", index=False)
    ws = Workspace.open(path)
    if with_model:
        save_model(ws, planted_model())
    return ws


@pytest.fixture
def model() -> AffinityModel:
    return planted_model()


@pytest.fixture
def crm_ws(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A workspace with the planted interactions, customers and an active planted model (SQLite)."""
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks

    forget_schema_checks()
    monkeypatch.setenv("ATELIER_WORKSPACE", "crm")
    yield make_crm_workspace(atelier_home / "workspaces")
    dispose_engines()
    forget_schema_checks()
