"""Inter-rater agreement: Fleiss' kappa over items with several raters, Cohen's kappa per two raters."""

from __future__ import annotations

from itertools import combinations
from typing import Any, Sequence

import numpy as np
import pandas as pd


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa of a (items, categories) count table; items may have different numbers of raters (>= 2)."""
    table = np.asarray(table, dtype=float)
    n = table.sum(axis=1)
    table, n = table[n >= 2], n[n >= 2]
    if len(table) == 0:
        return float("nan")
    p_i = ((table ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_j = table.sum(axis=0) / table.sum()
    p_e = float((p_j ** 2).sum())
    return float("nan") if p_e >= 1 else float((p_i.mean() - p_e) / (1 - p_e))


def cohen_kappa(x: Sequence[str], y: Sequence[str]) -> float:
    """Cohen's kappa of two raters' labels on the same items."""
    x, y = np.asarray(x), np.asarray(y)
    cats = np.union1d(x, y)
    p_o = float((x == y).mean())
    p_e = float(sum((x == c).mean() * (y == c).mean() for c in cats))
    return float("nan") if p_e >= 1 else (p_o - p_e) / (1 - p_e)


def rater_agreement(labels: pd.DataFrame, categories: Sequence[str], item: str = "item", rater: str = "rater",
                    label: str = "label") -> dict[str, Any]:
    """Agreement on the items labelled by two raters or more (one row per decision in `labels`).

    Returns {"items": how many such items, "fleiss_kappa": float (nan without any), "cohen": DataFrame
    (rater_a, rater_b, items, kappa) for every two raters who share at least two items}.
    """
    multi = labels.groupby(item).filter(lambda g: len(g) >= 2) if not labels.empty else labels
    cohen_rows = []
    if not multi.empty:
        table = pd.crosstab(multi[item], multi[label]).reindex(columns=list(categories), fill_value=0).to_numpy()
        wide = multi.pivot_table(index=item, columns=rater, values=label, aggfunc="first")
        for u, v in combinations(sorted(wide.columns), 2):
            both = wide[[u, v]].dropna()
            if len(both) >= 2:
                cohen_rows.append({"rater_a": u, "rater_b": v, "items": len(both),
                                   "kappa": cohen_kappa(both[u].tolist(), both[v].tolist())})
        fleiss = fleiss_kappa(table)
    else:
        fleiss = float("nan")
    return {"items": int(multi[item].nunique()) if not multi.empty else 0, "fleiss_kappa": fleiss,
            "cohen": pd.DataFrame(cohen_rows, columns=["rater_a", "rater_b", "items", "kappa"])}
