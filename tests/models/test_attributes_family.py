"""The attribute family against the shared contract, on a tiny catalogue whose attributes are planted in the text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.models.attributes.evaluate import split_catalogue
from core.models.attributes.model import AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams
from tests.attributes.conftest import synthetic_catalogue
from tests.models.contract import FamilyContract


class TestAttributesFamily(FamilyContract):
    family = AttributeModel

    @pytest.fixture(scope="class")
    @classmethod
    def contract_data(cls) -> AttributeData:
        train, test = split_catalogue(synthetic_catalogue(160, seed=11), 0.25, seed=0)
        return AttributeData(train, test=test)

    def small_params(self) -> AttributeParams:
        return AttributeParams(epochs=2, text_dim=16, word_dim=8, word_channels=8, hidden=32, categorical_dim=4,
                               batch_size=64, min_support=3, buckets=2 ** 12)

    def outputs(self, model: AttributeModel, data: AttributeData) -> dict[str, np.ndarray]:
        return model.probabilities(data.test)

    def ask_unknown(self, model: AttributeModel) -> Any:
        return model.attribute_index("no_such_attribute")
