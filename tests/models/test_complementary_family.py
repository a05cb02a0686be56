"""The complementary family against the shared contract, on tiny outfits with a planted colour rule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.models.complementary.evaluate import split_outfits
from core.models.complementary.model import ComplementaryData, ComplementaryModel
from core.models.complementary.params import ComplementaryParams
from tests.complementary.conftest import synthetic_outfits
from tests.models.contract import FamilyContract


class TestComplementaryFamily(FamilyContract):
    family = ComplementaryModel

    @pytest.fixture(scope="class")
    @classmethod
    def contract_data(cls) -> ComplementaryData:
        catalogue, outfits = synthetic_outfits(120, 80)
        train, test = split_outfits(outfits, 0.25, seed=1)
        return ComplementaryData(catalogue, train, test_outfits=test)

    def small_params(self) -> ComplementaryParams:
        return ComplementaryParams(epochs=1, dim=8, field_dim=4, hidden=16, id_dim=4, batch_size=256,
                                   text_buckets=256)

    def outputs(self, model: ComplementaryModel, data: ComplementaryData) -> dict[str, np.ndarray]:
        a, b = np.arange(0, 60), np.arange(60, 120)
        return {"pair_scores": model.score_rows(a, b), "embeddings": model.embeddings()}

    def ask_unknown(self, model: ComplementaryModel) -> Any:
        return model.score_pairs(["no-such-item"], ["i0001"])
