"""The affinity comparison (popularity, WARP, transposed WARP, bi-directional, ALS) on a workspace or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from core.data.public import read_tmall
from core.data.readers import read_table
from core.data.workspace import Workspace
from core.features.splits import split_interactions
from core.models.affinity import AffinityParams
from core.models.affinity.compare import MODELS, compare, evaluate_interactions, history_of
from core.services import jobs

__all__ = ["MODELS", "KIND", "evaluate_workspace", "evaluate_file", "compare_job", "submit_comparison",
           "comparison_table"]

KIND = "affinity_compare"
LABELS = {"popularity": "popularity", "warp": "WARP (users×brands)", "warp_transposed": "WARP transposed",
          "bidirectional": "bi-directional", "als": "ALS (implicit)",
          "served": "served (what training ships)"}
SIDES = {"user": "brands for a customer", "brand": "customers for a brand"}
METRICS = ("precision@10", "recall@10", "ndcg@10")


def evaluate_workspace(ws: Workspace, params: AffinityParams | None = None, **kwargs: Any) -> dict[str, object]:
    """`evaluate_interactions` on a workspace's interactions table."""
    return evaluate_interactions(ws.interactions(), params, **kwargs)


def evaluate_file(path: Path, params: AffinityParams | None = None, **kwargs: Any) -> dict[str, object]:
    """Evaluate on a generic-schema interactions file (CSV/Parquet) or a Tmall folder, without a workspace."""
    path = Path(path)
    frame = read_tmall(path)["interactions"] if path.is_dir() else read_table(path, "interactions")
    return evaluate_interactions(frame, params, **kwargs)


def compare_job(ws: Workspace, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job target: the both-direction comparison on one held-out split of the workspace's interactions, one model
    after another (progress per model). params: {"params": AffinityParams.to_dict(), "models", "test_fraction",
    "seed", "tune", "by"}. Returns {"models": {name: metrics}, "split", "params"} as `evaluate_interactions`."""
    values = dict(params or {})
    model_params = AffinityParams.from_dict(values.get("params"))
    names = tuple(values.get("models") or MODELS)
    progress.update(0.02, "splitting the interactions")
    interactions = ws.interactions()
    split = split_interactions(interactions, test_fraction=float(values.get("test_fraction", 0.2)),
                               seed=int(values.get("seed", 42)), method=str(values.get("split", "auto")))
    # only "served" trains on the rows before the cutoff; the whole table need not stay for the job's length
    history = history_of(interactions, split) if "served" in names else None
    del interactions
    results: dict[str, Any] = {}
    for i, name in enumerate(names):
        progress.update(0.05 + 0.9 * i / len(names), f"training and scoring {LABELS.get(name, name)}")
        results.update(compare(split, model_params, (name,), tune=bool(values.get("tune", True)), history=history))
        # No metric points: one model per step would draw as scattered dots; the page shows the comparison.
        progress.update(0.05 + 0.9 * (i + 1) / len(names),
                        f"{LABELS.get(name, name)}: brand P@10 {results[name]['brand_precision@10']:.3f}, "
                        f"user P@10 {results[name]['user_precision@10']:.3f}")
    return {"models": results, "split": split.summary(), "params": model_params.to_dict()}


def submit_comparison(ws: Workspace, params: AffinityParams, by: str, test_fraction: float = 0.2,
                      tune: bool = True, models: tuple[str, ...] = MODELS) -> int:
    """Queue the comparison as a job (it trains each model: minutes on the demo) and return its id."""
    return jobs.submit(ws, KIND, {"params": params.to_dict(), "models": list(models), "test_fraction": test_fraction,
                                  "seed": params.seed, "tune": tune, "by": by}, submitted_by=by)


def comparison_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per model and side (model, side, precision@10, recall@10, ndcg@10), best brand side first."""
    rows = [{"model": LABELS.get(name, name), "side": SIDES[side],
             **{m: float(metrics.get(f"{side}_{m}", float("nan"))) for m in METRICS}}
            for name, metrics in result.get("models", {}).items() for side in SIDES]
    return pd.DataFrame(rows, columns=["model", "side", *METRICS])
