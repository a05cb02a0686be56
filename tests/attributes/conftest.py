"""Fixtures: a small synthetic catalogue whose attributes are planted in the text and the product type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import jobs
from core.data.workspace import Workspace
from core.models.attributes.params import AttributeParams
from core.services import attribute_training

COLOURS = ("black", "white", "red", "navy")
PATTERNS = ("striped", "floral", "solid")
TYPES = {"shirts": "tops", "tshirts": "tops", "jeans": "bottoms", "sneakers": "shoes"}
SLEEVES = ("short sleeves", "long sleeves")
# hybrid_refit False: these tests train many small models, and serving the inner fit keeps each at one network fit
# (the hybrid's refit is exercised by test_hybrid.py and the family contract).
FAST = {"epochs": 6, "text_dim": 32, "hidden": 64, "categorical_dim": 8, "batch_size": 64, "min_support": 3,
        "hybrid_refit": False}


def synthetic_catalogue(n: int = 300, seed: int = 0, missing: float = 0.4) -> pd.DataFrame:
    """Generic-schema catalogue: colour and pattern named in the text, sleeve length only for tops (applicability),
    each label hidden with probability `missing`."""
    rng = np.random.default_rng(seed)
    types = np.array(list(TYPES))
    kind = types[rng.integers(len(types), size=n)]
    colour = np.array(COLOURS)[rng.integers(len(COLOURS), size=n)]
    pattern = np.array(PATTERNS)[rng.integers(len(PATTERNS), size=n)]
    sleeve = np.array(SLEEVES)[rng.integers(len(SLEEVES), size=n)]
    tops = np.isin(kind, ("shirts", "tshirts"))
    names = [f"{c} {p} {k}" for c, p, k in zip(colour, pattern, kind)]
    descriptions = [f"A {p} {k} in {c} cotton" + (f", has {s}" if t else "") + "." for c, p, k, s, t in
                    zip(colour, pattern, kind, sleeve, tops)]

    def hide(values: np.ndarray, keep: np.ndarray | None = None) -> list:
        shown = rng.random(n) >= missing
        if keep is not None:
            shown &= keep
        return [v if s else None for v, s in zip(values, shown)]

    return pd.DataFrame({
        "item_id": [f"i{k:04d}" for k in range(n)], "name": names, "description": descriptions,
        "brand": [f"brand{k % 5}" for k in range(n)], "category": kind,
        "category_group": [TYPES[k] for k in kind], "division": np.where(rng.random(n) < 0.5, "women", "men"),
        "price": rng.uniform(10, 100, n).round(2), "image_url": None,
        "attr_colour": hide(colour), "attr_pattern": hide(pattern), "attr_sleeve_length": hide(sleeve, tops),
    })


def run_training_job(ws: Workspace, **values) -> jobs.JobInfo:  # params and run options
    """Run the training job in this process: model parameters become AttributeParams, run options stay options."""
    run = {k: values.pop(k) for k in list(values) if k in attribute_training.RUN_OPTIONS}
    return jobs.get(ws, attribute_training.submit_training(ws, AttributeParams.from_dict(values), "local", inline=True,
                                                           **run))


def make_workspace(root: Path, name: str, catalogue: pd.DataFrame) -> Workspace:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "workspace.json").write_text(json.dumps({"name": name}), encoding="utf-8")
    catalogue.to_parquet(path / "catalogue.parquet", index=False)
    return Workspace.open(path)


@pytest.fixture
def catalogue() -> pd.DataFrame:
    return synthetic_catalogue()


@pytest.fixture
def attr_ws(atelier_home: Path) -> Workspace:
    """A workspace with the synthetic catalogue and an empty SQLite database."""
    return make_workspace(atelier_home / "workspaces", "attrs", synthetic_catalogue())
