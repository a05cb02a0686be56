"""The checks every model family passes (mixed into one test class per family, as implicit's recommender_base_test)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.artifacts import ArtifactStore
from core.errors import ArtifactError, UnknownIdError, ValidationError
from core.models import registry
from core.models.family import FamilyParams, ModelFamily


class FamilyContract:
    """Subclass with `family` set, a class-scoped `contract_data` fixture (tiny data whose answer is known) and
    the three hooks below; every test here then runs against that family."""

    family: type[ModelFamily]

    def small_params(self) -> FamilyParams:
        """Params that train in well under a second on `contract_data`."""
        raise NotImplementedError

    def outputs(self, model: Any, data: Any) -> dict[str, np.ndarray]:
        """What a model answers (scores, predictions) — a loaded copy must answer the same."""
        raise NotImplementedError

    def ask_unknown(self, model: Any) -> None:
        """Ask the model about an id it never saw (expected to raise UnknownIdError)."""
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def trained(cls, contract_data: Any) -> Any:
        return cls.family.train(contract_data, cls().small_params())

    # ------------------------------------------------------------------ identity and params
    def test_registered_under_its_kind(self) -> None:
        assert registry.family(self.family.kind) is self.family

    def test_params_round_trip_through_json(self) -> None:
        params = self.small_params()
        assert isinstance(params, self.family.Params)
        again = self.family.Params.from_dict(json.loads(json.dumps(params.to_dict())))
        assert again == params

    def test_params_are_frozen(self) -> None:
        params = self.small_params()
        name = dataclasses.fields(params)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, name, getattr(params, name))

    def test_params_refuse_unknown_names(self) -> None:
        with pytest.raises(ValidationError, match="no_such_param"):
            self.family.Params.from_dict({"no_such_param": 1})
        # stored versions written by a newer or older release still load
        assert self.family.Params.from_dict({"no_such_param": 1}, strict=False) == self.family.Params()

    def test_params_refuse_wrong_types(self) -> None:
        for field in dataclasses.fields(self.family.Params):
            with pytest.raises(ValidationError, match=field.name):
                self.family.Params.from_dict({field.name: object()})

    # ------------------------------------------------------------------ trained model
    def test_trained_model_meets_the_protocol(self, trained: Any) -> None:
        assert isinstance(trained, self.family)
        assert isinstance(trained, ModelFamily)

    def test_evaluate_returns_numbers(self, trained: Any, contract_data: Any) -> None:
        metrics = trained.evaluate(contract_data)
        assert metrics and isinstance(metrics, dict)
        json.dumps(metrics)  # stored with the version

    def test_artifact_round_trip(self, trained: Any, contract_data: Any, tmp_path: Path) -> None:
        arrays, meta = trained.to_artifact()
        assert all(not np.asarray(a).dtype.hasobject for a in arrays.values())
        assert meta["params"] == trained.params.to_dict()
        store = ArtifactStore(tmp_path)
        version = store.save(self.family.kind, arrays, meta)
        artifact = store.load(self.family.kind, version)
        loaded = self.family.from_artifact(artifact.arrays, artifact.meta)
        assert loaded.params == trained.params
        before, after = self.outputs(trained, contract_data), self.outputs(loaded, contract_data)
        assert before.keys() == after.keys()
        for name in before:
            np.testing.assert_allclose(np.asarray(after[name], dtype=float), np.asarray(before[name], dtype=float),
                                       rtol=1e-5, atol=1e-6, err_msg=name)

    def test_artifact_missing_an_array_is_refused(self, trained: Any) -> None:
        arrays, meta = trained.to_artifact()
        for name in arrays:
            partial = {k: v for k, v in arrays.items() if k != name}
            with pytest.raises(ArtifactError):
                self.family.from_artifact(partial, meta)

    def test_unknown_id_is_a_clear_error(self, trained: Any) -> None:
        with pytest.raises(UnknownIdError):
            self.ask_unknown(trained)
