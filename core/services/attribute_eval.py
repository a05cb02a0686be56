"""Attribute evaluation: train on one catalogue, Table 2 on another (against majority class and TF-IDF + LR)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.models.attributes.model import AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams


def evaluate(train_catalogue: pd.DataFrame, test_catalogue: pd.DataFrame, attributes: list[str] | None = None,
             params: AttributeParams | None = None, baseline: bool = True,
             image: tuple[np.ndarray | None, np.ndarray | None] | None = None,
             progress: Callable[[float, str, dict], None] | None = None, model: AttributeModel | None = None,
             ) -> dict[str, Any]:
    """Train on `train_catalogue` (unless `model` is given), score the labelled cells of `test_catalogue`.

    image: (train rows, test rows) float32 image matrices or None. Returns AttributeModel.evaluate's {"table",
    "confusion", "average", "timing"} with "train_s" in the timing, plus "model" and "params" (their to_dict()).
    """
    params = params or AttributeParams()
    train_image, test_image = image if image is not None else (None, None)
    data = AttributeData(train_catalogue, None if attributes is None else tuple(attributes), train_image,
                         test_catalogue, test_image)
    started = time.perf_counter()
    report = (lambda f, m: progress(0.8 * f, "training", m)) if progress else None
    model = model or AttributeModel.train(data, params, progress=report)
    train_s = time.perf_counter() - started
    scored = (lambda f, m, x: progress(0.8 + 0.2 * f, m, x)) if progress else None
    result = model.evaluate(data, baseline=baseline, progress=scored)
    return {**result, "timing": {"train_s": train_s, **result["timing"]}, "model": model, "params": params.to_dict()}


def render_table(result: dict[str, Any]) -> str:
    """Table 2 as fixed-width text (model vs majority class vs TF-IDF + logistic regression; "—" where not run)."""
    def cell(value: float | None, width: int, percent: bool = False) -> str:
        if value is None or value != value:  # the baseline was not run (--no-baseline) or had no labels
            return f"{'—':>{width}}"
        return f"{100 * value:>{width}.1f}" if percent else f"{value:>{width}.3f}"

    lines = [f"{'attribute':<18}{'#samples':>9}{'#test':>7}{'#classes':>9}{'wF1':>7}{'acc%':>7}{'maj%':>7}"
             f"{'LR wF1':>8}{'LR acc%':>8}"]
    for row in result["table"]:
        lines.append(f"{row['attribute']:<18}{row['samples']:>9}{row['test_samples']:>7}{row['classes']:>9}"
                     f"{cell(row['weighted_f1'], 7)}{cell(row['accuracy'], 7, True)}"
                     f"{cell(row['majority_accuracy'], 7, True)}"
                     f"{cell(row.get('baseline_f1'), 8)}{cell(row.get('baseline_accuracy'), 8, True)}")
    avg = result["average"]
    if avg:
        lines.append(f"{'average':<18}{'':>25}{cell(avg['weighted_f1'], 7)}{cell(avg['accuracy'], 7, True)}"
                     f"{cell(avg['majority_accuracy'], 7, True)}{cell(avg.get('baseline_f1'), 8)}"
                     f"{cell(avg.get('baseline_accuracy'), 8, True)}")
    return "\n".join(lines)
