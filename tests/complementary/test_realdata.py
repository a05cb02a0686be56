"""Real curated outfits: on Mango the model beats the attribute co-occurrence prior; Polyvore reads and scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.public import read_polyvore
from core.models.complementary.params import ComplementaryParams
from core.services import outfit_eval


@pytest.mark.realdata
@pytest.mark.slow
def test_mango_model_beats_the_prior_on_pair_auc_and_fitb(shared_data: Path) -> None:
    result = outfit_eval.evaluate_mango(shared_data / "mango-outfits-2023", ComplementaryParams(epochs=4))
    model, prior, rand = result["model"], result["prior"], result["random"]
    print(f"\nMango (4 epochs): model {model}\nprior {prior}\npopularity {result['popularity']}\nrandom "
          f"{rand}\ncounts {result['counts']}")
    assert model["pair_auc"] > prior["pair_auc"] + 0.05
    assert model["fitb_accuracy"] > prior["fitb_accuracy"] + 0.05
    popular = result["popularity"]  # "was it styled before": the shortcut a same-type swap leaves open
    assert model["pair_auc"] > popular["pair_auc"] and model["fitb_accuracy"] > popular["fitb_accuracy"]
    assert abs(rand["fitb_accuracy"] - 0.25) < 0.05 and result["counts"]["fitb_questions"] > 1000


@pytest.mark.realdata
@pytest.mark.slow  # parsing 3 MB of JSON + 200k categories: ~5 s quiet, 20 s on a busy machine
def test_polyvore_reader_maps_compatibility_rows_to_items(shared_data: Path) -> None:
    data = read_polyvore(shared_data / "polyvore-outfits-partial")
    assert data["outfits"]["outfit_id"].nunique() == 5000
    compat = data["compatibility"]
    assert compat.groupby("question")["label"].first().value_counts().to_dict() == {1: 5000, 0: 5000}
    known = compat["item_id"].isin(set(data["outfits"]["item_id"])).mean()
    assert known > 0.99
