"""Attributes: the serving attribute model with its saved predictions and Table 2, and the consolidated export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core import auth
from core.columns import ATTRIBUTE_PREFIX
from core.data.workspace import Workspace
from core.db import audit
from core.db.session import transaction
from core.errors import AtelierError
from core.models.attributes.errors import DEFAULT_CUTOFF
from core.models.attributes.model import AttributeModel
from core.services import models as versions
from core.services.attribute_review import (  # noqa: F401 — the Attribute review page reads one service module
    BulkResult, Decision, acceptance, active_decisions, bulk_accept, bulk_preview, decide, decided_values,
    effective_catalogue, review_queue, reviews, undo, undo_latest)
from core.services.exports import to_csv_bytes

KIND = AttributeModel.kind
QUALITY_COLUMNS = ("attribute", "samples", "test_samples", "classes", "weighted_f1", "accuracy", "majority_accuracy",
                   "baseline_f1", "baseline_accuracy", "network_f1", "blend_weight")


@dataclass
class ActiveModel:
    """The serving version: its model, Table 2 metrics, and the predictions saved with it."""

    version: str
    model: AttributeModel
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def attributes(self) -> list[str]:
        return self.model.attributes

    def suspects(self, attribute: str | None = None, cutoff: float = DEFAULT_CUTOFF) -> pd.DataFrame | None:
        """Catalogue values this version disputes (confident learning, out of fold), most suspicious first, up to
        relative confidence `cutoff`; None for a version trained before suspects were saved."""
        if "suspect.item_id" not in self.arrays:
            return None
        frame = pd.DataFrame({c: self.arrays[f"suspect.{c}"] for c in
                              ("item_id", "attribute", "catalogue_value", "suggested", "relative_confidence",
                               "suggested_probability")})
        frame = frame[frame["relative_confidence"] <= cutoff]
        if attribute is not None:
            frame = frame[frame["attribute"] == attribute]
        return frame.sort_values("relative_confidence", kind="stable").reset_index(drop=True)

    def predictions(self, attribute: str) -> pd.DataFrame:
        """item_id, predicted, probability, alternatives (str), reviewed (bool: a standing review decided the value
        when this version was trained, and it is served over the network's guess) for every item of the training
        catalogue."""
        j = self.model.attribute_index(attribute)
        classes = self.model.space.classes[attribute]
        top, p = self.arrays[f"pred.{j}.top"], self.arrays[f"pred.{j}.p"]
        alternatives = ["; ".join(f"{classes[c]} ({q:.2f})" for c, q in zip(row[1:], prob[1:])) for row,
                        prob in zip(top, p)]
        # Versions trained before reviews were served over the network have no such array: nothing was reviewed.
        reviewed = self.arrays.get(f"pred.{j}.reviewed", np.zeros(len(top), dtype=np.uint8)).astype(bool)
        return pd.DataFrame({"item_id": self.arrays["pred.item_ids"].astype(str), "predicted": classes[top[:, 0]],
                             "probability": p[:, 0], "alternatives": alternatives, "reviewed": reviewed})


def load_active(ws: Workspace) -> ActiveModel | None:
    """The active attribute model of the workspace with its saved predictions, or None before the first training."""
    artifact = versions.load_active(ws, KIND)
    if artifact is None:
        return None
    return ActiveModel(artifact.version, AttributeModel.from_artifact(artifact.arrays, artifact.meta), artifact.meta,
                       artifact.arrays)


def require_active(ws: Workspace) -> ActiveModel:
    active = load_active(ws)
    if active is None:
        raise AtelierError("no attribute model yet: train one with `python -m core train attributes` or the "
                           "\"Train\" button on the Attribute review page")
    return active


def quality_table(active: ActiveModel) -> pd.DataFrame:
    """Table 2 of the active version (held-out split): attribute, #samples, #classes, weighted F1, accuracy %, majority
    %, TF-IDF+LR weighted F1 / accuracy %, and for the hybrid its network's weighted F1 and blend weight w."""
    frame = pd.DataFrame(active.meta.get("table", []))
    for column in ("accuracy", "majority_accuracy", "baseline_accuracy"):
        if column in frame:
            frame[column] = 100 * frame[column]
    # The saved metadata comes back with sorted keys; a reader expects the Table 2 order, attribute first.
    return frame[[c for c in QUALITY_COLUMNS if c in frame.columns]]


def class_values(active: ActiveModel, attribute: str) -> list[str]:
    """The values the model can predict for `attribute` (what a reviewer may pick when correcting)."""
    return [str(c) for c in active.model.space.classes[attribute]]


def consolidated_catalogue(ws: Workspace) -> pd.DataFrame:
    """The catalogue with every reviewed attr_* value written in, and a source_<name> column per attribute
    ("catalogue", "review" or empty when missing)."""
    original = ws.catalogue()
    merged = effective_catalogue(ws)
    decided = decided_values(ws)
    for column in [c for c in merged.columns if c.startswith(ATTRIBUTE_PREFIX)]:
        name = column[len(ATTRIBUTE_PREFIX):]
        reviewed = set(decided.loc[decided["attribute"] == name, "item_id"])
        source = np.where(merged["item_id"].astype(str).isin(reviewed), "review",
                          np.where(original[column].notna().to_numpy() if column in original else False,
                                   "catalogue", ""))
        merged[f"source_{name}"] = source
    return merged


def export_catalogue(ws: Workspace, by: str) -> bytes:
    """The consolidated catalogue as escaped CSV bytes, with an audit row (who, rows, the file's sha256)."""
    auth.require_action(by, "catalogue.export")
    frame = consolidated_catalogue(ws)
    data = to_csv_bytes(frame, blank_all_missing=True)
    with transaction(ws) as session:
        audit.record(session, by, "attribute.export", ws.name, "catalogue",
                     {"rows": len(frame), "sha256": hashlib.sha256(data).hexdigest()})
    return data
