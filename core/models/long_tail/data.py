"""The long-tail family's training data: a catalogue (the item space), sessions of interactions, image vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.columns import Columns


def unique_items(catalogue: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with one row per item_id (the first), in catalogue order: the model's item space."""
    return catalogue.drop_duplicates(Columns.item, keep="first").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class LongTailData:
    """What training reads, as a workspace holds it (generic schema).

    catalogue: items and their content; interactions: user_id, item_id (+ event, weight), or curated outfits as
    sessions; image_features: optional (item_ids, float32 (m, D)); source: what `interactions` are ("interactions"
    or "outfits"), named in error messages and stored with the version.
    """

    catalogue: pd.DataFrame
    interactions: pd.DataFrame
    image_features: tuple[np.ndarray, np.ndarray] | None = None
    source: str = "interactions"
