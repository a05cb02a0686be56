"""Complementary model speed: batched pair scoring and complete-the-look against a naive per-pair loop."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from core.models.complementary.model import ComplementaryData, ComplementaryModel
from core.models.complementary.params import ComplementaryParams


def _catalogue(n_items: int, n_outfits: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    groups = np.array(["tops", "bottoms", "shoes", "bags", "outerwear", "accessories"])
    g = rng.integers(len(groups), size=n_items)
    catalogue = pd.DataFrame({
        "item_id": [f"i{k}" for k in range(n_items)],
        "name": [f"item {k} {groups[x]}" for k, x in enumerate(g)],
        "brand": [f"b{k % 50}" for k in range(n_items)],
        "category": [f"{groups[x]}_{k % 5}" for k, x in enumerate(g)],
        "category_group": groups[g],
        "price": rng.uniform(5, 300, n_items),
        "attr_colour": rng.choice(["black", "white", "red", "blue", "beige", "green"], n_items),
    })
    rows = [(f"o{o}", f"i{i}") for o in range(n_outfits) for i in rng.choice(n_items, 5, replace=False)]
    return catalogue, pd.DataFrame(rows, columns=["outfit_id", "item_id"])


def _naive_score(model: ComplementaryModel, a: int, b: int) -> float:
    """One pair at a time through both legs and the head: what a direct port of f(i, j) does."""
    with torch.no_grad():
        z = model.encoder(model._inputs(np.array([a, b])))  # noqa: SLF001 — the benchmark's baseline
        return float(torch.sigmoid(model.scorer(z[:1], z[1:])))


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(quick: bool = True) -> list[dict]:
    """Pairs per second (batched vs naive loop) and complete-the-look latency (vectorised vs naive loop)."""
    torch.set_num_threads(2)
    n_items, n_pairs, n_naive = (3000, 50_000, 150) if quick else (30_000, 1_000_000, 1000)
    catalogue, outfit_rows = _catalogue(n_items, n_items // 2)
    model = ComplementaryModel.train(ComplementaryData(catalogue, outfit_rows), ComplementaryParams(epochs=1))
    rng = np.random.default_rng(1)
    a, b = rng.integers(n_items, size=n_pairs), rng.integers(n_items, size=n_pairs)

    model.forget_embeddings()  # count the item encoding in the batched time
    batched = _best_of(lambda: (model.forget_embeddings(), model.score_rows(a, b)), 3)
    naive = _best_of(lambda: [_naive_score(model, int(x), int(y)) for x, y in zip(a[:n_naive], b[:n_naive])], 1)
    batched_rate, naive_rate = n_pairs / batched, n_naive / naive

    item = str(model.feats.item_ids[0])
    model.embeddings()
    look = _best_of(lambda: model.complete_the_look(item, per_slot=3), 5)
    others = np.flatnonzero(model.feats.slots != model.feats.slots[0])
    naive_look_sample = _best_of(lambda: [_naive_score(model, 0, int(c)) for c in others[:n_naive]], 1)
    naive_look = naive_look_sample * len(others) / min(n_naive, len(others))  # extrapolated from a sample
    return [
        {"name": "complementary.pair_scoring", "metric": "pairs_per_s", "value": batched_rate, "baseline": naive_rate,
         "ratio": batched_rate / naive_rate, "unit": "pairs/s",
         "note": f"{n_pairs:,} pairs, {n_items:,} items, embeddings computed once per call; naive: one pair per "
                 f"forward ({n_naive} pairs)"},
        {"name": "complementary.complete_the_look", "metric": "latency_ms", "value": look * 1e3,
         "baseline": naive_look * 1e3, "ratio": naive_look / look, "unit": "ms",
         "note": f"one item against {len(others):,} candidates of other categories; naive loop timed on "
                 f"{min(n_naive, len(others))} and scaled"},
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
