"""The hybrid attribute model: the linear half is the TF-IDF + LR it claims to be, w is chosen on the inner split only,
what is served is the blend, and versions from before the hybrid still serve their network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.features.text import product_text
from core.models.attributes import model as model_module
from core.models.attributes.features import LabelSpace
from core.models.attributes.linear import LinearText
from core.models.attributes.model import BLEND_GRID, AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams
from core.services import attributes as svc
from core.services.attribute_eval import evaluate, render_table
from tests.attributes.conftest import FAST, make_workspace, run_training_job, synthetic_catalogue

QUICK = {**FAST, "epochs": 2, "hybrid_refit": True}


def test_linear_half_answers_as_sklearn_tfidf_and_logistic_regression() -> None:
    catalogue = synthetic_catalogue(200, seed=3)
    catalogue.loc[::7, "description"] = catalogue.loc[::7, "description"] + " soft soft soft"  # tf > 1
    space = LabelSpace.fit(catalogue, ["colour", "pattern"], AttributeParams(min_support=3))
    linear = LinearText.fit(catalogue, space, C=10.0)
    probs = linear.probabilities(catalogue)
    text = product_text(catalogue)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b")
    x = vectorizer.fit_transform(text)
    for name in ("colour", "pattern"):
        rows = catalogue[f"attr_{name}"].notna().to_numpy()
        labels = catalogue.loc[rows, f"attr_{name}"].astype(str).to_numpy()
        reference = LogisticRegression(C=10.0, max_iter=300, random_state=0).fit(x[rows], labels)
        expected = reference.predict_proba(vectorizer.transform(text))
        order = [list(space.classes[name]).index(c) for c in reference.classes_]
        np.testing.assert_allclose(probs[name][:, order], expected, atol=2e-3, err_msg=name)


def test_a_class_the_training_rows_lack_gets_probability_zero() -> None:
    catalogue = synthetic_catalogue(120, seed=4)
    space = LabelSpace.fit(catalogue, ["colour"], AttributeParams(min_support=3))
    without_red = catalogue.assign(attr_colour=catalogue["attr_colour"].where(catalogue["attr_colour"] != "red"))
    probs = LinearText.fit(without_red, space).probabilities(catalogue)["colour"]
    assert np.all(probs[:, list(space.classes["colour"]).index("red")] == 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_served_probabilities_are_the_blend_with_weights_from_the_grid() -> None:
    catalogue = synthetic_catalogue(240, seed=5)
    model = AttributeModel.train(AttributeData(catalogue), AttributeParams.from_dict(QUICK))
    assert model.linear is not None and set(model.blend) == set(model.attributes)
    assert all(w in BLEND_GRID for w in model.blend.values())
    p_net, p_linear = model.halves(catalogue)
    served = model.probabilities(catalogue)
    for name in model.attributes:
        w = model.blend[name]
        np.testing.assert_allclose(served[name], w * p_net[name] + (1 - w) * p_linear[name], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(served[name].sum(axis=1), 1.0, rtol=1e-5)
    alone = AttributeModel.train(AttributeData(catalogue), AttributeParams.from_dict({**QUICK, "hybrid_holdout": 0}))
    assert alone.linear is None and alone.blend == {}


@pytest.mark.parametrize("wrong", ["network", "linear"])
def test_the_weight_goes_to_the_half_that_is_right_on_the_inner_split(wrong: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = synthetic_catalogue(300, seed=6, missing=0.1)
    seen: list[set[str]] = []
    real_net, real_linear = AttributeModel.network_probabilities, AttributeModel._linear_probabilities

    def spoil(probs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # the second most likely class, confidently
        out = {}
        for name, p in probs.items():
            runner_up = np.argsort(-p, axis=1)[:, 1]
            out[name] = np.full_like(p, 0.0)
            out[name][np.arange(len(p)), runner_up] = 1.0
        return out

    def network(self: AttributeModel, frame: pd.DataFrame, *args, **kwargs) -> dict[str, np.ndarray]:
        seen.append(set(frame["item_id"]))
        probs = real_net(self, frame, *args, **kwargs)
        return spoil(probs) if wrong == "network" else probs

    def linear(self: AttributeModel, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        probs = real_linear(self, frame)
        return spoil(probs) if wrong == "linear" else probs

    monkeypatch.setattr(model_module.AttributeModel, "network_probabilities", network)
    monkeypatch.setattr(model_module.AttributeModel, "_linear_probabilities", linear)
    model = AttributeModel.train(AttributeData(catalogue, ("colour", "pattern")), AttributeParams.from_dict(FAST))
    expected = 0.0 if wrong == "network" else 1.0
    assert all(w <= 0.4 if expected == 0 else w >= 0.6 for w in model.blend.values()), model.blend
    # w was chosen on the inner-validation items only: a fraction of the training items, none of them trained on
    inner_validation = seen[0]
    assert 0.05 * len(catalogue) < len(inner_validation) < 0.3 * len(catalogue)
    report = model.blend_report["colour"]
    assert report["validation_labels"] > 0 and len(report["scores"]) == len(BLEND_GRID)


def test_evaluation_shows_the_hybrid_its_network_and_the_baseline() -> None:
    catalogue = synthetic_catalogue(260, seed=9)
    train_part, test_part = catalogue.iloc[:200].reset_index(drop=True), catalogue.iloc[200:].reset_index(drop=True)
    result = evaluate(train_part, test_part, None, AttributeParams.from_dict(QUICK), baseline=True)
    for row in result["table"]:
        assert {"weighted_f1", "network_f1", "linear_f1", "baseline_f1", "blend_weight"} <= set(row)
    assert "network_beats_baseline" in result["average"]
    text = render_table(result)
    assert "net wF1" in text and "LR wF1" in text and "hybrid" in text


def test_a_version_saved_before_the_hybrid_serves_its_network() -> None:
    catalogue = synthetic_catalogue(150, seed=10)
    model = AttributeModel.train(AttributeData(catalogue), AttributeParams.from_dict(QUICK))
    arrays, meta = model.to_artifact()
    old_arrays = {k: v for k, v in arrays.items() if not k.startswith(("linear.", "blend."))}
    old_params = {k: v for k, v in meta["params"].items() if not k.startswith(("hybrid_", "linear_"))}
    loaded = AttributeModel.from_artifact(old_arrays, {**meta, "params": old_params})
    assert loaded.linear is None and loaded.params.hybrid_holdout == 0
    network = model.network_probabilities(catalogue)
    for name, p in loaded.probabilities(catalogue).items():
        np.testing.assert_allclose(p, network[name], rtol=1e-5, atol=1e-6)


def test_the_training_job_serves_the_hybrid_with_the_weights_its_evaluation_chose(atelier_home: Path) -> None:
    ws = make_workspace(atelier_home / "workspaces", "hybrid", synthetic_catalogue(200, seed=12))
    info = run_training_job(ws, **{**QUICK, "baseline": False})
    assert info.status == "done", info.error
    active = svc.require_active(ws)
    assert active.model.linear is not None
    table = svc.quality_table(active)
    assert {"network_f1", "blend_weight"} <= set(table.columns)
    # the model refitted on every label keeps the w chosen on the evaluation's inner split, never on its test items
    assert {row.attribute: row.blend_weight for row in table.itertuples()} == active.model.blend
    assert set(active.meta["blend_report"]) == set(active.model.attributes)
    served = active.predictions("colour").set_index("item_id")["probability"]
    blended = active.model.probabilities(ws.catalogue())["colour"].max(axis=1)
    np.testing.assert_allclose(served.to_numpy(), blended, rtol=1e-5)
