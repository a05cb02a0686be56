"""The long-tail family through the shared contract, on a tiny planted catalogue and its sessions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.models.long_tail import EvalParams, LongTailData, LongTailModel, LongTailParams
from tests.longtail.planted import planted_tables
from tests.models.contract import FamilyContract


class TestLongTailFamily(FamilyContract):
    family = LongTailModel

    @pytest.fixture(scope="class")
    @classmethod
    def contract_data(cls) -> LongTailData:
        interactions, catalogue = planted_tables(n_users=150, n_items=80, n_interactions=2000, seed=4)
        return LongTailData(catalogue, interactions)

    def small_params(self) -> LongTailParams:
        return LongTailParams(factors=8, iterations=3, epochs=2, threshold=3, hidden=16, embed_dim=4,
                              fit_blend_k=False, threads=1)

    def outputs(self, model: LongTailModel, data: Any) -> dict[str, np.ndarray]:
        first = str(model.item_ids[0])
        return {**model.vectors, "counts": model.counts,
                "blended_neighbours": np.array([s for _, s in model.blended_neighbours(first, 5)])}

    def ask_unknown(self, model: LongTailModel) -> None:
        model.blended_neighbours("no-such-item")

    def test_evaluate_with_a_smaller_protocol(self, trained: LongTailModel, contract_data: LongTailData) -> None:
        result = trained.evaluate(contract_data, EvalParams(holdout_fraction=0.2, max_items=20))
        assert set(result["spaces"]) == {"als", "predicted", "blended", "content", "popularity"}
