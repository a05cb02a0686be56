"""The affinity family's training data: an interactions table, weighted and split the way the params say."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.features.interactions import InteractionMatrix, user_brand_matrix
from core.features.splits import Split, split_interactions
from core.models.affinity.params import AffinityParams

# A model trained without validation is still evaluated on a split of this share of the pairs.
EVALUATION_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class AffinityData:
    """Interactions in the generic schema (user_id, brand_id, event, weight, timestamp), as a workspace holds them."""

    interactions: pd.DataFrame

    def matrix(self, params: AffinityParams) -> InteractionMatrix:
        """All user–brand pairs, weighted by the params' event weights and time decay."""
        return user_brand_matrix(self.interactions, event_weights=params.event_weights,
                                 half_life_days=params.half_life_days)

    def split(self, params: AffinityParams) -> Split:
        """The validation split training uses: last period or random pairs, `test_fraction` of them, seeded."""
        return split_interactions(self.interactions, test_fraction=params.test_fraction or EVALUATION_FRACTION,
                                  seed=params.seed, event_weights=params.event_weights,
                                  half_life_days=params.half_life_days)
