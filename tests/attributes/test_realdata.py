"""Real catalogue (Fashion Product Images): the model beats the majority class on every attribute and holds TF-IDF +
LR."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.public import read_public
from core.models.attributes.evaluate import category_as_attribute, split_catalogue
from core.models.attributes.params import AttributeParams
from core.services.attribute_eval import evaluate

ATTRIBUTES = ["pattern", "sleeve_length", "fabric", "neck", "base_colour", "season", "article_type"]


@pytest.mark.realdata
@pytest.mark.slow
def test_fashion_product_images_sample_beats_majority_everywhere_and_the_baseline_on_average(shared_data: Path) -> None:
    catalogue = read_public("fashion_product_images", shared_data / "fashion-product-images")["catalogue"]
    catalogue = category_as_attribute(catalogue, "article_type").sample(n=4000, random_state=7).reset_index(drop=True)
    train, test = split_catalogue(catalogue, 0.2, seed=7)
    # The served hybrid without its final refit on every training item: the same blend, a third of the suite time.
    result = evaluate(train, test, ATTRIBUTES, AttributeParams(hybrid_refit=False))
    rows = {row["attribute"]: row for row in result["table"]}
    print("\n" + "\n".join(f"{a}: model {r['weighted_f1']:.3f} TF-IDF+LR {r['baseline_f1']:.3f} "
                           f"acc {r['accuracy']:.3f} majority acc {r['majority_accuracy']:.3f}" for a,
                           r in rows.items()))
    assert set(rows) == set(ATTRIBUTES)
    for name, row in rows.items():
        assert row["accuracy"] > row["majority_accuracy"] + 0.05, (name, row)
    average = result["average"]
    # docs/attributes.md's full-catalogue table has the model 0.005-0.009 ahead; on 4,000 items the margin is thinner.
    assert average["weighted_f1"] > average["baseline_f1"], average
