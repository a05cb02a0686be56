"""Long tail: the training job, sessions and the planted ceiling of a workspace, what the maps page asks of a
version."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.columns import Columns
from core.data.demo import load_planted
from core.data.public import read_mango
from core.data.workspace import Workspace
from core.errors import Problem, ValidationError
from core.index import NeighbourIndex
from core.models.long_tail import MAP_SPACES, EvalParams, LongTailData, LongTailModel, LongTailParams
from core.models.long_tail.als import session_matrix
from core.models.long_tail.data import unique_items
from core.models.long_tail.evaluate import (KNOWN_BUCKETS, SPACES, evaluate_long_tail, planted_ceiling_scores,
                                            summary_metrics)
from core.projection import project
from core.services import models, promotion
from core.services import jobs

KIND = LongTailModel.kind

__all__ = ["KIND", "LongTailParams", "SPACES", "KNOWN_BUCKETS", "MAP_SPACES", "LongTailModel", "train_long_tail",
           "submit_training",
           "evaluate_long_tail", "planted_ceiling", "sessions", "mango_tables", "outfits_as_sessions", "load_model",
           "items_frame", "neighbours", "neighbour_index", "evaluation_table", "cell_representatives",
           "rows_in_region"]


def planted_ceiling(ws: Workspace, protocol: EvalParams | None = None) -> dict[str, dict[str, float]]:
    """The users task scored with the demo's planted truth (`planted_ceiling_scores`). Demo workspaces only."""
    item_ids = unique_items(ws.catalogue())[Columns.item].astype(str).to_numpy()
    matrix = session_matrix(ws.interactions(), item_ids)
    return planted_ceiling_scores(matrix.matrix, matrix.user_ids.to_array(), item_ids, load_planted(ws), protocol)


def outfits_as_sessions(outfits: pd.DataFrame) -> pd.DataFrame:
    """Curated outfits as interactions: one session (user_id = 'outfit:<id>') per outfit, one row per item."""
    return pd.DataFrame({Columns.user: "outfit:" + outfits[Columns.outfit].astype(str),
                         Columns.item: outfits[Columns.item].astype(str),
                         Columns.event: "order", Columns.weight: np.float32(1.0)})


def mango_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mango curated outfits as sessions: (interactions with user_id = outfit id, catalogue)."""
    tables = read_mango(Path(folder))
    return outfits_as_sessions(tables["outfits"]), tables["catalogue"]


def sessions(ws: Workspace) -> tuple[pd.DataFrame, str]:
    """The co-occurrence the model learns from: (interactions, source) — the workspace's interactions, or, in a
    workspace that only has curated outfits (e.g. the imported Mango data set), its outfits as sessions."""
    if ws.has("interactions"):
        return ws.interactions(), "interactions"
    if ws.has("outfits"):
        return outfits_as_sessions(ws.outfits()), "outfits"
    raise ValidationError([Problem("interactions", None, None,
                                   f"workspace '{ws.name}' has neither interactions nor outfits: import an "
                                   "interactions (or outfits) file on the Data page")])


# ---------------------------------------------------------------- training job


class _Slice:
    """Progress of one step mapped onto lo..hi of the job's; a step's live metrics pass on only if `metrics`."""

    def __init__(self, progress: Any, lo: float, hi: float, prefix: str = "", metrics: bool = True) -> None:
        self.progress, self.lo, self.hi, self.prefix, self.metrics = progress, lo, hi, prefix, metrics

    def update(self, fraction: float, message: str = "", metrics: dict | None = None) -> None:
        self.progress.update(self.lo + (self.hi - self.lo) * fraction, self.prefix + message,
                             metrics if self.metrics else None)


def train_long_tail(ws: Workspace, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job target: ALS → encoder (live val loss) → vectors → evaluation → UMAP per space → saved, active version.

    params: `LongTailParams.to_dict()` plus `evaluate` (bool, default True), `projection` (bool, default True),
    `activate` ("auto", the default: the promotion rule decides; True / False force it),
    `eval` (`EvalParams.to_dict()`) and `by` (who trained it).
    """
    values = dict(params or {})
    run_eval = bool(values.pop("evaluate", True))
    run_projection = bool(values.pop("projection", True))
    protocol = EvalParams.from_dict(values.pop("eval", None))
    by = str(values.pop("by", "local"))
    activate = values.pop("activate", "auto")
    model_params = LongTailParams.from_dict(values)
    interactions, source = sessions(ws)
    data = LongTailData(ws.catalogue(), interactions, ws.image_features(), source)
    trained = LongTailModel.train(data, model_params, _Slice(progress, 0.02, 0.45 if run_eval else 0.7))
    evaluation, eval_blend_k = None, None
    if run_eval:
        # the evaluation refits everything on its own split with the params as given (it fits its own k)
        result = evaluate_long_tail(interactions, data.catalogue, model_params, protocol,
                                    report=_Slice(progress, 0.45, 0.75, "evaluation: ", metrics=False).update,
                                    image_features=data.image_features)
        evaluation = result["spaces"]
        eval_blend_k = result["meta"]["params"]["blend_k"]
    layouts: dict[str, np.ndarray] = {}
    timings = dict(trained.meta["timings"])
    if run_projection:
        for i, name in enumerate(MAP_SPACES):
            progress.update(0.76 + 0.07 * i, f"UMAP of the {name} space", None)
            started = time.perf_counter()
            layouts[name] = project(trained.vectors[name], seed=model_params.seed)
            timings[f"umap_{name}_s"] = time.perf_counter() - started
    progress.update(0.97, "saving the version", None)
    arrays, meta = trained.with_layouts(layouts).to_artifact()
    metrics = summary_metrics(evaluation, trained.meta["history"])
    held_out = _held_out(evaluation, protocol, interactions, data.catalogue)
    meta.update(metrics=metrics, evaluation=evaluation, evaluation_blend_k=eval_blend_k, timings=timings, by=by,
                held_out=held_out.to_dict() if held_out else None)
    version = models.store(ws).save(KIND, arrays, meta)
    models.register_version(ws, KIND, version, metrics, by)
    decision = promotion.promote(ws, KIND, version, held_out, by, activate)
    progress.update(1.0, f"version {version}: {'live' if decision.activated else 'held back'}", None)
    return {"version": version, "metrics": metrics, "timings": timings, "promotion": decision.to_dict()}


def _held_out(evaluation: dict | None, protocol: EvalParams, interactions: pd.DataFrame,
              catalogue: pd.DataFrame) -> promotion.HeldOut | None:
    """NDCG@10 of the blended space (what the page serves) on the tail and head items of the evaluation split."""
    if not evaluation or "blended" not in evaluation:
        return None
    buckets = {b: evaluation["blended"][b] for b in ("tail", "head") if b in evaluation["blended"]}
    return promotion.HeldOut({f"blended_{b}_ndcg@10": float(v["ndcg@10"]) for b, v in buckets.items()},
                             {f"blended_{b}_ndcg@10": int(v.get("n_items", 0)) for b, v in buckets.items()},
                             promotion.split_key(protocol.to_dict(), len(interactions), len(catalogue)))


def submit_training(ws: Workspace, params: LongTailParams, by: str = "local", evaluate: bool = True,
                    projection: bool = True, protocol: EvalParams | None = None, wait: bool = False,
                    echo: bool = False) -> int:
    """Start training as a background job and return its id; wait=True runs it here (the CLI, tests)."""
    job_params = {**params.to_dict(), "evaluate": evaluate, "projection": projection,
                  "eval": (protocol or EvalParams()).to_dict(), "by": by}
    if wait:
        return jobs.run_inline(ws, KIND, job_params, submitted_by=by, echo=echo)
    return jobs.submit(ws, KIND, job_params, submitted_by=by)


# ---------------------------------------------------------------- what the maps page asks


def load_model(ws: Workspace) -> LongTailModel | None:
    """The active long-tail version, or None when none was trained."""
    artifact = models.load_active(ws, KIND)
    if artifact is None:
        return None
    model = LongTailModel.from_artifact(artifact.arrays, artifact.meta)
    return LongTailModel(model.item_ids, model.vectors, model.counts, model.bucket, model.params, model.layouts,
                         model.stored, model.meta, artifact.version)


def items_frame(ws: Workspace, model: LongTailModel) -> pd.DataFrame:
    """One row per model item: item_id, name, brand, category, image_url, interactions, bucket (catalogue order)."""
    frame = pd.DataFrame({Columns.item: model.item_ids, "interactions": model.counts, "bucket": model.bucket})
    catalogue = unique_items(ws.catalogue())
    wanted = [c for c in ("name", "brand", "category", "category_group", "price", "image_url") if c in catalogue]
    info = catalogue[[Columns.item, *wanted]].astype({Columns.item: str})
    frame = frame.merge(info, on=Columns.item, how="left")
    for column in ("name", "brand", "category"):
        if column not in frame:
            frame[column] = ""
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def neighbours(model: LongTailModel, item_id: str, space: str, k: int = 10) -> list[tuple[str, float]]:
    """The k nearest items of `item_id` in `space` (als | predicted | blended) by cosine.

    als/predicted: exact faiss search; blended: the similarity-level blend (`LongTailModel.blended_neighbours`).
    """
    index = neighbour_index(model, space)
    if space != "blended":
        return index.neighbours(item_id, k)
    return model.blended_neighbours(item_id, k)


_INDEXES: dict[tuple[str, str], NeighbourIndex] = {}


def neighbour_index(model: LongTailModel, space: str) -> NeighbourIndex:
    """A faiss index per (version, space), built once per process (≈ ms for 100k × 64)."""
    if space not in model.vectors:
        raise ValidationError([Problem("space", None, None, f"unknown space '{space}'; use one of {list(MAP_SPACES)}")])
    key = (model.version, space)
    if key not in _INDEXES:
        if len(_INDEXES) > 8:
            _INDEXES.clear()
        _INDEXES[key] = NeighbourIndex(model.vectors[space], model.item_ids)
    return _INDEXES[key]


def cell_representatives(xy: np.ndarray, priority: np.ndarray, groups: np.ndarray, grid: int) -> np.ndarray:
    """Rows to draw when a map is decimated: per (group, cell of a grid × grid raster over the bounding box of
    `xy`), the row with the highest `priority` (ties: the first). int64 (k,), ascending.

    xy: float or int (n, 2), finite; priority: (n,) (e.g. interactions, so the largest marker of a cell is the
    one drawn); groups: (n,) labels (a cell keeps one point of every colour in it).
    """
    n = len(xy)
    if n == 0:
        return np.zeros(0, np.int64)
    xy = np.asarray(xy, dtype=np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    cell = np.minimum(((xy - lo) / span * grid).astype(np.int64), grid - 1)
    _, group_code = np.unique(np.asarray(groups), return_inverse=True)
    key = (group_code.astype(np.int64) * grid + cell[:, 0]) * grid + cell[:, 1]
    order = np.lexsort((np.arange(n), -np.asarray(priority, dtype=np.float64), key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    return np.sort(order[first])


def rows_in_region(xy: np.ndarray, boxes: list[tuple[float, float, float, float]],
                   lassos: list[np.ndarray]) -> np.ndarray:
    """Rows of `xy` ((n, 2), map coordinates; non-finite rows never match) inside any box (x0, x1, y0, y1, in
    any order) or any lasso polygon (float (m, 2) vertices, closed implicitly). int64 (k,), ascending.

    A decimated map draws one point per cell, so a box or lasso selects every item it covers from here, not
    only the drawn ones.
    """
    xy = np.asarray(xy, dtype=np.float64)
    inside = np.zeros(len(xy), bool)
    x, y = xy[:, 0], xy[:, 1]
    for x0, x1, y0, y1 in boxes:
        inside |= (x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1))
    for polygon in lassos:
        polygon = np.asarray(polygon, dtype=np.float64)
        if len(polygon) < 3:
            continue
        (px0, py0), (px1, py1) = polygon.min(axis=0), polygon.max(axis=0)
        candidates = np.flatnonzero((x >= px0) & (x <= px1) & (y >= py0) & (y <= py1))
        inside[candidates] |= _in_polygon(xy[candidates], polygon)
    return np.flatnonzero(inside)


def _in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd ray casting: bool (k,) of points (k, 2) inside polygon (m, 2)."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), bool)
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0)):
        crosses = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at)
    return inside


def evaluation_table(evaluation: dict[str, dict[str, dict[str, float]]], task: str = "users") -> pd.DataFrame:
    """Long table: space, bucket, ndcg@10, ap, n_items for `task` users | items."""
    prefix = "" if task == "users" else "item_"
    rows = []
    for space, buckets in evaluation.items():
        for bucket, entry in buckets.items():
            rows.append({"space": space, "bucket": bucket, "ndcg@10": entry.get(f"{prefix}ndcg@10"),
                         "ap": entry.get(f"{prefix}ap"),
                         "n_items": entry.get(f"{prefix}n_items", entry.get("n_items"))})
    return pd.DataFrame(rows)
