"""Fixtures: a small synthetic outfit workspace on SQLite or on a throw-away PostgreSQL schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.workspace import Workspace
from tests.db.conftest import dialect  # noqa: F401 — the SQLite / PostgreSQL fixture, shared with the database suite
from tests.db.conftest import make_workspace as make_empty_workspace

SLOTS = ("tops", "bottoms", "shoes", "bags")
COLOURS = ("black", "white", "red", "blue", "green", "beige")


def synthetic_outfits(n_items: int = 400, n_outfits: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A catalogue (two types per slot, six colours) and outfits with a planted rule: one colour 'family'
    per outfit (colour index parity), one item per slot. (catalogue, outfits) in the generic schema."""
    rng = np.random.default_rng(seed)
    slot = rng.integers(len(SLOTS), size=n_items)
    colour = rng.integers(len(COLOURS), size=n_items)
    catalogue = pd.DataFrame({
        "item_id": [f"i{k:04d}" for k in range(n_items)],
        "name": [f"{COLOURS[c]} {SLOTS[s]} {k}" for k, (s, c) in enumerate(zip(slot, colour))],
        "brand": [f"b{k % 7}" for k in range(n_items)],
        "category": [f"{SLOTS[s]}_{k % 2}" for k, s in enumerate(slot)],
        "category_group": [SLOTS[s] for s in slot],
        "price": rng.uniform(10, 200, n_items).round(2),
        "attr_colour": [COLOURS[c] for c in colour],
    })
    rows = []
    for o in range(n_outfits):
        family = o % 2
        for s in range(len(SLOTS)):
            pool = np.flatnonzero((slot == s) & (colour % 2 == family))
            rows.append((f"o{o:04d}", catalogue.item_id[rng.choice(pool)]))
    outfits = pd.DataFrame(rows, columns=["outfit_id", "item_id"]).drop_duplicates()
    return catalogue, outfits


def make_workspace(root: Path, name: str = "w", catalogue: pd.DataFrame | None = None,
                   outfits: pd.DataFrame | None = None) -> Workspace:
    ws = make_empty_workspace(root, name)
    path = ws.path
    if catalogue is not None:
        catalogue.to_parquet(path / "catalogue.parquet", index=False)
    if outfits is not None:
        outfits.to_parquet(path / "outfits.parquet", index=False)
    return Workspace.open(path)


@pytest.fixture
def outfit_ws(dialect: str, tmp_path: Path) -> Workspace:
    """A workspace with the synthetic catalogue and outfits and an empty database."""
    catalogue, outfits = synthetic_outfits()
    return make_workspace(tmp_path, "w", catalogue, outfits)
