"""The affinity family through the shared contract, on a tiny planted interactions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.features.interactions import planted_interactions
from core.models.affinity import AffinityData, AffinityModel, AffinityParams
from tests.models.contract import FamilyContract


class TestAffinityFamily(FamilyContract):
    family = AffinityModel

    @pytest.fixture(scope="class")
    @classmethod
    def contract_data(cls) -> AffinityData:
        frame, _ = planted_interactions(n_users=200, n_brands=20, n_interactions=2000, seed=5)
        return AffinityData(frame)

    def small_params(self) -> AffinityParams:
        return AffinityParams(n_factors=4, iterations=2, num_threads=1)

    def outputs(self, model: AffinityModel, data: Any) -> dict[str, np.ndarray]:
        top, scores = model.top_brands_for_users(5)
        return {"user_scores": model.scores_for_users(np.arange(model.n_users)),
                "brand_scores": model.scores_for_brands(np.arange(model.n_brands)), "top": top, "top_scores": scores}

    def ask_unknown(self, model: AffinityModel) -> None:
        model.scores_for_user(model.n_users)
