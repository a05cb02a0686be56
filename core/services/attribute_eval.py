"""Attribute evaluation: train on one catalogue, Table 2 on another (against majority class and TF-IDF + LR)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.data.demo import load_planted
from core.data.workspace import Workspace
from core.errors import WorkspaceError
from core.models.attributes import errors
from core.models.attributes.model import AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams

FINDER_TOP = 150  # the issue's yardstick: a merchandiser's afternoon of suspects


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
    """Table 2 as fixed-width text: what the model serves (the hybrid) vs majority class vs TF-IDF + logistic
    regression, and for the hybrid its network alone and its blend weight w ("—" where not run)."""
    def cell(value: float | None, width: int, percent: bool = False) -> str:
        if value is None or value != value:  # the baseline was not run (--no-baseline) or had no labels
            return f"{'—':>{width}}"
        return f"{100 * value:>{width}.1f}" if percent else f"{value:>{width}.3f}"

    hybrid = any("network_f1" in row for row in result["table"])
    lines = [] if "error_finder" not in result else [render_error_finder(result["error_finder"]), ""]
    lines += [f"{'attribute':<18}{'#samples':>9}{'#test':>7}{'#classes':>9}{'wF1':>7}{'acc%':>7}{'maj%':>7}"
              f"{'LR wF1':>8}{'LR acc%':>8}" + (f"{'net wF1':>8}{'w':>5}" if hybrid else "")]
    for row in result["table"]:
        lines.append(f"{row['attribute']:<18}{row['samples']:>9}{row['test_samples']:>7}{row['classes']:>9}"
                     f"{cell(row['weighted_f1'], 7)}{cell(row['accuracy'], 7, True)}"
                     f"{cell(row['majority_accuracy'], 7, True)}"
                     f"{cell(row.get('baseline_f1'), 8)}{cell(row.get('baseline_accuracy'), 8, True)}"
                     + (f"{cell(row.get('network_f1'), 8)}{row.get('blend_weight', float('nan')):>5.1f}"
                        if hybrid else ""))
    avg = result["average"]
    if avg:
        lines.append(f"{'average':<18}{'':>25}{cell(avg['weighted_f1'], 7)}{cell(avg['accuracy'], 7, True)}"
                     f"{cell(avg['majority_accuracy'], 7, True)}{cell(avg.get('baseline_f1'), 8)}"
                     f"{cell(avg.get('baseline_accuracy'), 8, True)}"
                     + (f"{cell(avg.get('network_f1'), 8)}" if hybrid else ""))
        if "beats_baseline" in avg and hybrid:
            lines.append(f"served model (the hybrid: w·network + (1-w)·TF-IDF LR, w chosen on an inner split of the "
                         f"training items) better than TF-IDF + LR on {avg['beats_baseline']} of {avg['attributes']}"
                         + (f"; the network alone on {avg['network_beats_baseline']}"
                            if "network_beats_baseline" in avg else ""))
    return "\n".join(lines)


def planted_errors(ws: Workspace) -> pd.DataFrame | None:
    """item_id, attribute of the demo's planted catalogue errors (None for a workspace without planted truth)."""
    try:
        planted = load_planted(ws)
    except WorkspaceError:
        return None
    return pd.DataFrame({"item_id": planted["item_ids"][planted["error_item"]].astype(str),
                         "attribute": planted["error_attribute"].astype(str)})


def error_finder_report(catalogue: pd.DataFrame, known: pd.DataFrame, top: int = FINDER_TOP,
                        cutoffs: tuple[float, ...] = (0.02, 0.05, errors.DEFAULT_CUTOFF),
                        suspects: pd.DataFrame | None = None) -> dict[str, Any]:
    """Recall and precision of the confident-learning suspects against known errors: per attribute among the
    `top` most suspicious, and overall at each sensitivity cutoff the review page offers (`suspects`: already
    found with cutoff 1, e.g. by the training job)."""
    suspects = errors.find_errors(catalogue, cutoff=1.0) if suspects is None else suspects
    at_cutoff = []
    for cutoff in cutoffs:
        within = suspects[suspects["relative_confidence"] <= cutoff]
        at_cutoff.append({"cutoff": cutoff, **errors.recall_precision(within, known).iloc[-1].to_dict()})
    return {"top": top, "at_top": errors.recall_precision(suspects, known, top).to_dict("records"),
            "at_cutoff": at_cutoff}


def render_error_finder(report: dict[str, Any]) -> str:
    """The finder's recall / precision per attribute (top N) and at each cutoff, as fixed-width text."""
    lines = [f"catalogue-error finder (confident learning) against the planted errors, top {report['top']} suspects",
             f"{'attribute':<18}{'planted':>8}{'found':>7}{'recall':>8}{'precision':>10}"]
    for row in report["at_top"]:
        lines.append(f"{row['attribute']:<18}{row['planted']:>8}{row['found']:>7}{_pct(row['recall']):>8}"
                     f"{_pct(row['precision']):>10}")
    lines.append("by sensitivity (relative confidence cutoff): " + "; ".join(
        f"≤ {r['cutoff']}: {r['suspects']} suspects, recall {_pct(r['recall'])}, precision {_pct(r['precision'])}"
        for r in report["at_cutoff"]))
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None or value != value else f"{100 * value:.0f}%"
