"""Training a long-tail version: the catalogue's content features, the session matrix, the vector spaces."""

from __future__ import annotations

from typing import Any

from core.artifacts import torch_state_to_arrays
from core.columns import Columns
from core.errors import Problem, ValidationError
from core.features.content import build_content_features, describe
from core.models.long_tail.als import session_matrix
from core.models.long_tail.data import LongTailData, unique_items
from core.models.long_tail.evaluate import popularity_buckets
from core.models.long_tail.model import LongTailModel
from core.models.long_tail.params import LongTailParams
from core.models.long_tail.spaces import fit_spaces


def fit(data: LongTailData, params: LongTailParams, progress: Any = None) -> LongTailModel:
    """ALS on the sessions over the catalogue's items, the encoder (live val loss as progress metrics), vectors.

    The model's params carry the blend_k it was built with; its meta the encoder history, timings and sizes.
    """
    def report(fraction: float, message: str, metrics: dict | None = None) -> None:
        if progress is not None:
            progress.update(fraction, message, metrics)

    features = build_content_features(unique_items(data.catalogue), data.image_features)
    matrix = session_matrix(data.interactions, features.item_ids).matrix
    if matrix.nnz == 0:
        raise ValidationError([Problem(data.source, None, Columns.item,
                                       f"no row of the {data.source} refers to a catalogue item: import matching "
                                       "files")])
    spaces = fit_spaces(matrix, features, params, report)
    stored = {**torch_state_to_arrays(spaces.encoder.state_dict(), prefix="encoder."), **features.to_arrays()}
    meta = {"blend_fit": spaces.blend_fit, "history": spaces.history, "best_epoch": spaces.best_epoch,
            "timings": dict(spaces.timings), "content": describe(features), "source": data.source,
            "n_users": int(matrix.shape[0]), "n_interactions": int(matrix.nnz)}
    return LongTailModel(features.item_ids.astype(str), {"als": spaces.als, "predicted": spaces.predicted,
                                                         "blended": spaces.blended},
                         spaces.counts, popularity_buckets(spaces.counts), params.replace(blend_k=spaces.blend_k),
                         stored=stored, meta=meta)
