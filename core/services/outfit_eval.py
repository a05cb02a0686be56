"""Evaluate complementary scorers on held-out outfits: pair AUC, fill-in-the-blank, outfit compatibility AUC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.columns import Columns
from core.data.public import read_mango, read_polyvore
from core.errors import ValidationError, Problem
from core.models.complementary import ComplementaryModel, ComplementaryParams, ItemFeatures, TypeSampler, outfit_pairs, train

ScoreFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (a rows int64 (n,), b rows int64 (n,)) -> float (n,)
METRICS = ("pair_auc", "fitb_accuracy", "outfit_auc")


def split_outfits(outfits: pd.DataFrame, test_fraction: float = 0.2, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by outfit id: every outfit lands wholly on one side (train, test)."""
    if not 0 < test_fraction < 1:
        raise ValidationError([Problem("split", None, "test_fraction", "must be between 0 and 1", str(test_fraction))])
    ids = np.array(sorted(outfits[Columns.outfit].astype(str).unique()), dtype=object)
    if len(ids) < 2:
        raise ValidationError([Problem("outfits", None, Columns.outfit, "need at least two outfits to split")])
    rng = np.random.default_rng(seed)
    test_ids = set(rng.choice(ids, max(1, int(round(len(ids) * test_fraction))), replace=False))
    is_test = outfits[Columns.outfit].astype(str).isin(test_ids)
    return outfits[~is_test].reset_index(drop=True), outfits[is_test].reset_index(drop=True)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = pd.Series(np.concatenate([pos, neg])).rank(method="average").to_numpy()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


class CooccurrencePrior:
    """Attribute co-occurrence baseline: sum over content fields of smoothed PMI of the two items' values."""

    def __init__(self, feats: ItemFeatures, train_pairs: np.ndarray, alpha: float = 1.0, max_vocab: int = 3000):
        self.codes = feats.cat_codes
        self.tables: list[tuple[int, np.ndarray, int]] = []
        for j in range(feats.cat_codes.shape[1]):
            col = feats.cat_codes[:, j]
            lo, hi = (col[col > 0].min(), col.max()) if (col > 0).any() else (0, 0)
            size = int(hi - lo + 2) if hi else 1
            if size > max_vocab or size < 2:
                continue
            local = np.where(col > 0, col - lo + 1, 0)
            x, y = local[train_pairs[:, 0]], local[train_pairs[:, 1]]
            counts = np.zeros((size, size))
            np.add.at(counts, (x, y), 1.0)
            counts = counts + counts.T  # unordered pairs
            marg = counts.sum(axis=1)
            denom = counts.sum() + alpha * size * size
            p_xy = (counts + alpha) / denom
            p_x = (marg + alpha * size) / denom
            pmi = np.log(p_xy) - np.log(p_x)[:, None] - np.log(p_x)[None, :]
            self.tables.append((j, pmi, int(lo)))

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.zeros(len(a))
        for j, pmi, lo in self.tables:
            col = self.codes[:, j]
            la = np.where(col[a] > 0, col[a] - lo + 1, 0)
            lb = np.where(col[b] > 0, col[b] - lo + 1, 0)
            out += pmi[la, lb]
        return out


def popularity_scorer(feats: ItemFeatures, train_outfits: pd.DataFrame) -> ScoreFn:
    """How often both items were styled in training outfits (log counts summed): the shortcut an id-aware
    model can learn, since same-type swaps are mostly items no stylist used. The model must beat it too."""
    ids = train_outfits[Columns.item].astype(str)
    counts = np.bincount(feats.index(ids[ids.isin(feats._index)]), minlength=feats.n_items).astype(np.float64)
    logs = np.log1p(counts)
    return lambda a, b: logs[a] + logs[b]


def random_scorer(seed: int = 0) -> ScoreFn:
    rng = np.random.default_rng(seed)
    return lambda a, b: rng.random(len(a))


@dataclass
class Tasks:
    """Evaluation tasks built once from the test outfits, so every scorer answers the same questions."""

    pos_pairs: np.ndarray  # int64 (p, 2) held-out co-outfit pairs not seen in training
    neg_pairs: np.ndarray  # int64 (p, 2) same anchor, partner swapped for an item of its type
    fitb_context: list[np.ndarray]  # per question: the remaining outfit rows
    fitb_candidates: np.ndarray  # int64 (q, 4); column 0 is the hidden item
    outfits: list[np.ndarray]  # real test outfits (rows)
    swapped: list[np.ndarray]  # same outfits, every item swapped for one of its type


def build_tasks(feats: ItemFeatures, train_outfits: pd.DataFrame, test_outfits: pd.DataFrame, seed: int = 7, max_outfits: int = 2000) -> Tasks:
    """Draw the pair, FITB and compatibility questions from test outfits (seeded, at most `max_outfits`)."""
    rng = np.random.default_rng(seed)
    sampler = TypeSampler(feats.type_codes, rng)
    seen = {tuple(p) for p in outfit_pairs(train_outfits, feats)}
    pos = np.array([p for p in outfit_pairs(test_outfits, feats) if tuple(p) not in seen], dtype=np.int64).reshape(-1, 2)
    flip = rng.random(len(pos)) < 0.5
    pos = np.where(flip[:, None], pos[:, ::-1], pos)
    neg = np.stack([pos[:, 0], sampler.draw(pos[:, 1])], axis=1)
    keep = neg[:, 1] != pos[:, 1]  # a type with one item cannot be swapped
    pos, neg = pos[keep], neg[keep]

    frame = test_outfits[test_outfits[Columns.item].astype(str).isin(feats._index)]
    groups = [feats.index(g[Columns.item].astype(str).unique()) for _, g in frame.groupby(Columns.outfit, sort=True)]
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) > max_outfits:
        groups = [groups[i] for i in np.sort(rng.choice(len(groups), max_outfits, replace=False))]
    contexts, candidates = [], []
    for g in groups:
        h = int(rng.integers(len(g)))
        hidden = g[h]
        others = _distractors(sampler, hidden, set(g.tolist()), 3)
        if others is None:
            continue
        contexts.append(np.delete(g, h))
        candidates.append(np.r_[hidden, others])
    swapped = [sampler.draw(g) for g in groups]
    return Tasks(pos, neg, contexts, np.array(candidates, dtype=np.int64).reshape(-1, 4), groups, swapped)


def _distractors(sampler: TypeSampler, hidden: int, outfit: set[int], k: int) -> np.ndarray | None:
    if sampler.counts[sampler.type_codes[hidden]] <= k:
        return None
    picks: list[int] = []
    for _ in range(20 * k):
        c = int(sampler.draw(np.array([hidden]))[0])
        if c not in outfit and c not in picks:
            picks.append(c)
            if len(picks) == k:
                return np.array(picks, dtype=np.int64)
    return None


def _set_scores(score: ScoreFn, sets: list[np.ndarray]) -> np.ndarray:
    """Mean pairwise score of each set, with all pairs scored in one call."""
    a, b, owner = [], [], []
    for k, rows in enumerate(sets):
        i, j = np.triu_indices(len(rows), k=1)
        a.append(rows[i]); b.append(rows[j]); owner.append(np.full(len(i), k))
    if not a:
        return np.zeros(0)
    s = np.asarray(score(np.concatenate(a), np.concatenate(b)), dtype=np.float64)
    owner = np.concatenate(owner)
    return np.bincount(owner, weights=s, minlength=len(sets)) / np.maximum(np.bincount(owner, minlength=len(sets)), 1)


def evaluate_scorer(score: ScoreFn, tasks: Tasks) -> dict[str, float]:
    """The three metrics for one scorer on prepared tasks (FITB ties share the credit)."""
    pair_auc = auc(score(tasks.pos_pairs[:, 0], tasks.pos_pairs[:, 1]), score(tasks.neg_pairs[:, 0], tasks.neg_pairs[:, 1]))
    a, b, owner = [], [], []
    for q, (ctx, cands) in enumerate(zip(tasks.fitb_context, tasks.fitb_candidates)):
        for c_idx, c in enumerate(cands):
            a.append(np.full(len(ctx), c)); b.append(ctx); owner.append(np.full(len(ctx), q * 4 + c_idx))
    if a:
        s = np.asarray(score(np.concatenate(a), np.concatenate(b)), dtype=np.float64)
        owner = np.concatenate(owner)
        per = (np.bincount(owner, weights=s, minlength=4 * len(tasks.fitb_context)) / np.maximum(np.bincount(owner, minlength=4 * len(tasks.fitb_context)), 1)).reshape(-1, 4)
        best = per.max(axis=1, keepdims=True)
        tied = np.isclose(per, best, rtol=0, atol=1e-12)
        fitb = float(np.mean(tied[:, 0] / tied.sum(axis=1)))
    else:
        fitb = float("nan")
    outfit_auc = auc(_set_scores(score, tasks.outfits), _set_scores(score, tasks.swapped))
    return {"pair_auc": pair_auc, "fitb_accuracy": fitb, "outfit_auc": outfit_auc}


def task_counts(tasks: Tasks) -> dict[str, int]:
    return {"pairs": int(len(tasks.pos_pairs)), "fitb_questions": int(len(tasks.fitb_candidates)), "outfits": int(len(tasks.outfits))}


def evaluate(
    catalogue: pd.DataFrame,
    train_outfits: pd.DataFrame,
    test_outfits: pd.DataFrame,
    params: ComplementaryParams | None = None,
    labels: pd.DataFrame | None = None,
    seed: int = 7,
    model: ComplementaryModel | None = None,
    progress: Callable[[float, str, dict], None] | None = None,
    image: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Train on `train_outfits` (unless a model is given) and compare model, prior and random on `test_outfits`.

    Returns {"model"|"prior"|"popularity"|"random": {pair_auc, fitb_accuracy, outfit_auc}, "counts": {...}, "history": [...],
    "trained_model": ComplementaryModel}.
    """
    overlap = set(train_outfits[Columns.outfit].astype(str)) & set(test_outfits[Columns.outfit].astype(str))
    if overlap:
        raise ValidationError([Problem("test outfits", None, Columns.outfit, "outfit ids also in the training outfits: split by outfit", sorted(overlap)[0])])
    history: list[dict] = []
    if model is None:
        model, history = train(catalogue, train_outfits, labels, params, image=image, progress=progress)
    feats = model.feats
    tasks = build_tasks(feats, train_outfits, test_outfits, seed=seed)
    prior = CooccurrencePrior(feats, outfit_pairs(train_outfits, feats))
    result = {
        "model": evaluate_scorer(model.score_rows, tasks),
        "prior": evaluate_scorer(prior, tasks),
        "popularity": evaluate_scorer(popularity_scorer(feats, train_outfits), tasks),
        "random": evaluate_scorer(random_scorer(seed), tasks),
        "counts": task_counts(tasks),
    }
    if history:
        result["history"] = history
    result["trained_model"] = model  # callers that save it pop this before printing
    return result


def compatibility_auc(score: ScoreFn, feats: ItemFeatures, rows: list[tuple[int, list[str]]]) -> float:
    """AUC of labelled outfits (label 1/0, item ids); items unknown to the catalogue are dropped from a set."""
    sets, labels = [], []
    for label, items in rows:
        known = [i for i in items if i in feats._index]
        if len(known) >= 2:
            sets.append(feats.index(known)); labels.append(label)
    labels = np.asarray(labels)
    s = _set_scores(score, sets)
    return auc(s[labels == 1], s[labels == 0])


# -- public data sets -------------------------------------------------------------------------------------------

def evaluate_polyvore(folder, params: ComplementaryParams | None = None, test_fraction: float = 0.2, seed: int = 42) -> dict:
    """Polyvore (categories only): the three metrics on an outfit split of valid.json, plus the AUC on the
    dataset's labelled compatibility rows (positives from test outfits only, every negative row)."""
    from dataclasses import replace

    data = read_polyvore(folder)
    params = replace(params or ComplementaryParams(), use_item_ids=False)  # ids: most items occur once
    train_outfits, test_outfits = split_outfits(data["outfits"], test_fraction, seed)
    result = evaluate(data["catalogue"], train_outfits, test_outfits, params)
    model = result.pop("trained_model")
    compat = data.get("compatibility")
    if compat is not None and len(compat):
        test_items = set(test_outfits[Columns.item].astype(str))
        rows = []
        question = "question" if "question" in compat.columns else Columns.outfit  # one labelled row each
        for _, g in compat.groupby(question, sort=False):
            items = [str(i) for i in g[Columns.item] if isinstance(i, str) and i]
            label = int(g["label"].iloc[0])
            if label == 0 or all(i in test_items for i in items):
                rows.append((label, items))
        prior = CooccurrencePrior(model.feats, outfit_pairs(train_outfits, model.feats))
        for name, fn in (("model", model.score_rows), ("prior", prior),
                         ("popularity", popularity_scorer(model.feats, train_outfits)), ("random", random_scorer(seed))):
            result[name]["compatibility_auc"] = compatibility_auc(fn, model.feats, rows)
        result["counts"]["compatibility_rows"] = len(rows)
    return result


def evaluate_mango(folder, params: ComplementaryParams | None = None, test_fraction: float = 0.2, seed: int = 42,
                   set_model: bool = False) -> dict:
    """Mango curated outfits: split by outfit, train, and score model / prior / random (+ the set-model
    comparison under "outfit_scorers" when `set_model`)."""
    data = read_mango(folder)
    train_outfits, test_outfits = split_outfits(data["outfits"], test_fraction, seed)
    result = evaluate(data["catalogue"], train_outfits, test_outfits, params)
    model = result.pop("trained_model")
    if set_model:
        result["outfit_scorers"] = compare_set_model(model, train_outfits, test_outfits)
    return result


def outfit_groups(outfits: pd.DataFrame, feats: ItemFeatures) -> list[np.ndarray]:
    """Rows int64 of each outfit's known items (outfits with two or more)."""
    frame = outfits[outfits[Columns.item].astype(str).isin(feats._index)]
    groups = [feats.index(g[Columns.item].astype(str).unique()) for _, g in frame.groupby(Columns.outfit, sort=True)]
    return [g for g in groups if len(g) >= 2]


def compare_set_model(model: ComplementaryModel, train_outfits: pd.DataFrame, test_outfits: pd.DataFrame, seed: int = 7, epochs: int = 20) -> dict:
    """Mean of pairwise scores vs a DeepSets outfit scorer on the same questions: FITB, outfit AUC with every
    item swapped, and outfit AUC with a single item swapped (the harder case)."""
    from core.models.complementary import fit_set_model, set_scores

    tasks = build_tasks(model.feats, train_outfits, test_outfits, seed=seed)
    rng = np.random.default_rng(seed + 1)
    sampler = TypeSampler(model.feats.type_codes, rng)
    one_swap = []
    for g in tasks.outfits:
        k = int(rng.integers(len(g)))
        h = g.copy()
        h[k] = sampler.draw(g[k:k + 1])[0]
        one_swap.append(h)
    net = fit_set_model(model, outfit_groups(train_outfits, model.feats), epochs=epochs, seed=seed)
    pair = lambda sets: _set_scores(model.score_rows, sets)  # noqa: E731
    setm = lambda sets: set_scores(net, model, sets)  # noqa: E731
    out = {}
    for name, fn in (("pairwise_mean", pair), ("set_model", setm)):
        fitb_sets = [np.r_[ctx, c] for ctx, cands in zip(tasks.fitb_context, tasks.fitb_candidates) for c in cands]
        per = np.asarray(fn(fitb_sets), dtype=np.float64).reshape(-1, 4)
        tied = np.isclose(per, per.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
        out[name] = {
            "fitb_accuracy": float(np.mean(tied[:, 0] / tied.sum(axis=1))),
            "outfit_auc": auc(fn(tasks.outfits), fn(tasks.swapped)),
            "outfit_auc_one_swap": auc(fn(tasks.outfits), fn(one_swap)),
        }
    return out
