"""The item vector spaces of a long-tail fit: ALS, content-predicted and blended, plus what scoring users needs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from core.features.content import ContentFeatures
from core.models.long_tail.als import fit_als, item_user_counts
from core.models.long_tail.blend import blend, fit_blend_k
from core.models.long_tail.encoder import calibrate, make_ensemble, predict, train_encoder
from core.models.long_tail.params import LongTailParams

# report(fraction, message, metrics): a job's progress, or a slice of it.
Report = Callable[[float, str, dict | None], None]


@dataclass
class Spaces:
    """Item vectors of every space (rows = catalogue items) plus what scoring users needs."""

    als: np.ndarray  # float32 (n_items, f) raw ALS
    predicted: np.ndarray  # float32 (n_items, f) unit
    blended: np.ndarray  # float32 (n_items, f) unit
    content: sp.csr_matrix  # float32 (n_items, F) unit rows
    user_factors: np.ndarray  # float32 (n_users, f)
    counts: np.ndarray  # int64 (n_items,) interacting users in the matrix the spaces were fitted on
    history: list[dict[str, float]]
    best_epoch: int
    timings: dict[str, float]
    blend_k: float = 5.0
    blend_fit: dict[str, float] = field(default_factory=dict)  # cosine per k, reported with the version
    encoder: Any = None  # the trained torch module (saved with the version)


def fit_spaces(user_items: sp.csr_matrix, features: ContentFeatures, params: LongTailParams,
               report: Report | None = None, span: tuple[float, float] = (0.0, 1.0)) -> Spaces:
    """ALS on `user_items`, the encoder on items with ≥ threshold users, predicted and blended vectors."""
    lo, hi = span
    say = report or (lambda fraction, message, metrics=None: None)
    timings = {}
    started = time.perf_counter()
    say(lo, "fitting ALS", None)
    users, items = fit_als(user_items, params)
    timings["als_s"] = time.perf_counter() - started
    counts = item_user_counts(user_items)
    eligible = counts >= params.threshold

    n = params.encoders

    def on_epoch(member: int) -> Callable[[dict[str, float]], None]:
        def report(row: dict[str, float]) -> None:
            # the first member's curve is the one drawn; the others only move the progress bar
            say(lo + (hi - lo) * (0.2 + 0.75 * (member + row["epoch"] / params.epochs) / n),
                f"encoder {member + 1}/{n} epoch {row['epoch']}: val loss {row['val_loss']:.4f}",
                row if member == 0 else None)
        return report

    started = time.perf_counter()
    members = [train_encoder(features, items, eligible, params, on_epoch=on_epoch(i), member=i) for i in range(n)]
    result = members[0]
    model = result.model if n == 1 else make_ensemble([m.model for m in members])
    timings["encoder_s"] = time.perf_counter() - started
    predicted = calibrate(predict(model, features), items, result.train_items)
    blend_k, blend_fit = params.blend_k, {}
    if params.fit_blend_k:
        blend_k, blend_fit = fit_blend_k(user_items, items, predicted, result.val_items, params)
    blended = blend(items, predicted, counts.astype(np.float32), blend_k)
    return Spaces(items, predicted, blended, features.raw_matrix(), users, counts, result.history,
                  result.best_epoch, timings, blend_k, blend_fit, model)
