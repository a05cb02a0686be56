"""Held-out evaluation of pair scorers on outfits: pair AUC, fill-in-the-blank, outfit AUC, and their baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.columns import Columns
from core.errors import Problem, ValidationError
from core.models.complementary.features import ItemFeatures, TypeSampler, outfit_pairs
from core.models.complementary.network import OutfitSetModel

if TYPE_CHECKING:
    from core.models.complementary.model import ComplementaryModel

ScoreFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (a rows int64 (n,), b rows int64 (n,)) -> float (n,)


def split_outfits(outfits: pd.DataFrame, test_fraction: float = 0.2,
                  seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    counts = np.bincount(feats.index(ids[ids.isin(feats.row_of)]), minlength=feats.n_items).astype(np.float64)
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


def build_tasks(feats: ItemFeatures, train_outfits: pd.DataFrame, test_outfits: pd.DataFrame, seed: int = 7,
                max_outfits: int = 2000) -> Tasks:
    """Draw the pair, FITB and compatibility questions from test outfits (seeded, at most `max_outfits`)."""
    rng = np.random.default_rng(seed)
    sampler = TypeSampler(feats.type_codes, rng)
    seen = {tuple(p) for p in outfit_pairs(train_outfits, feats)}
    pos = np.array([p for p in outfit_pairs(test_outfits, feats) if tuple(p) not in seen],
                   dtype=np.int64).reshape(-1, 2)
    flip = rng.random(len(pos)) < 0.5
    pos = np.where(flip[:, None], pos[:, ::-1], pos)
    neg = np.stack([pos[:, 0], sampler.draw(pos[:, 1])], axis=1)
    keep = neg[:, 1] != pos[:, 1]  # a type with one item cannot be swapped
    pos, neg = pos[keep], neg[keep]

    frame = test_outfits[test_outfits[Columns.item].astype(str).isin(feats.row_of)]
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
        a.append(rows[i])
        b.append(rows[j])
        owner.append(np.full(len(i), k))
    if not a:
        return np.zeros(0)
    s = np.asarray(score(np.concatenate(a), np.concatenate(b)), dtype=np.float64)
    owner = np.concatenate(owner)
    return np.bincount(owner, weights=s, minlength=len(sets)) / np.maximum(np.bincount(owner, minlength=len(sets)), 1)


def evaluate_scorer(score: ScoreFn, tasks: Tasks) -> dict[str, float]:
    """The three metrics for one scorer on prepared tasks (FITB ties share the credit)."""
    pair_auc = auc(score(tasks.pos_pairs[:, 0], tasks.pos_pairs[:, 1]),
                   score(tasks.neg_pairs[:, 0], tasks.neg_pairs[:, 1]))
    a, b, owner = [], [], []
    for q, (ctx, cands) in enumerate(zip(tasks.fitb_context, tasks.fitb_candidates)):
        for c_idx, c in enumerate(cands):
            a.append(np.full(len(ctx), c))
            b.append(ctx)
            owner.append(np.full(len(ctx), q * 4 + c_idx))
    if a:
        s = np.asarray(score(np.concatenate(a), np.concatenate(b)), dtype=np.float64)
        owner = np.concatenate(owner)
        slots = 4 * len(tasks.fitb_context)
        per = (np.bincount(owner, weights=s, minlength=slots)
               / np.maximum(np.bincount(owner, minlength=slots), 1)).reshape(-1, 4)
        best = per.max(axis=1, keepdims=True)
        tied = np.isclose(per, best, rtol=0, atol=1e-12)
        fitb = float(np.mean(tied[:, 0] / tied.sum(axis=1)))
    else:
        fitb = float("nan")
    outfit_auc = auc(_set_scores(score, tasks.outfits), _set_scores(score, tasks.swapped))
    return {"pair_auc": pair_auc, "fitb_accuracy": fitb, "outfit_auc": outfit_auc}


def task_counts(tasks: Tasks) -> dict[str, int]:
    return {"pairs": int(len(tasks.pos_pairs)), "fitb_questions": int(len(tasks.fitb_candidates)),
            "outfits": int(len(tasks.outfits))}


def check_split(train_outfits: pd.DataFrame, test_outfits: pd.DataFrame) -> None:
    """ValidationError naming an outfit id that is on both sides (the split must be by outfit)."""
    overlap = set(train_outfits[Columns.outfit].astype(str)) & set(test_outfits[Columns.outfit].astype(str))
    if overlap:
        raise ValidationError([Problem("test outfits", None, Columns.outfit,
                                       "outfit ids also in the training outfits: split by outfit", sorted(overlap)[0])])


def held_out_metrics(model: "ComplementaryModel", train_outfits: pd.DataFrame, test_outfits: pd.DataFrame,
                     seed: int = 7) -> dict[str, Any]:
    """Model, co-occurrence prior, popularity and random on the same questions drawn from `test_outfits`.

    Returns {"model"|"prior"|"popularity"|"random": {pair_auc, fitb_accuracy, outfit_auc}, "counts": {...}};
    ValidationError when an outfit id is on both sides.
    """
    check_split(train_outfits, test_outfits)
    feats = model.feats
    tasks = build_tasks(feats, train_outfits, test_outfits, seed=seed)
    prior = CooccurrencePrior(feats, outfit_pairs(train_outfits, feats))
    return {
        "model": evaluate_scorer(model.score_rows, tasks),
        "prior": evaluate_scorer(prior, tasks),
        "popularity": evaluate_scorer(popularity_scorer(feats, train_outfits), tasks),
        "random": evaluate_scorer(random_scorer(seed), tasks),
        "counts": task_counts(tasks),
    }


def compatibility_auc(score: ScoreFn, feats: ItemFeatures, rows: list[tuple[int, list[str]]]) -> float:
    """AUC of labelled outfits (label 1/0, item ids); items unknown to the catalogue are dropped from a set."""
    sets, labels = [], []
    for label, items in rows:
        known = [i for i in items if i in feats.row_of]
        if len(known) >= 2:
            sets.append(feats.index(known))
            labels.append(label)
    labels = np.asarray(labels)
    s = _set_scores(score, sets)
    return auc(s[labels == 1], s[labels == 0])


def outfit_groups(outfits: pd.DataFrame, feats: ItemFeatures) -> list[np.ndarray]:
    """Rows int64 of each outfit's known items (outfits with two or more)."""
    frame = outfits[outfits[Columns.item].astype(str).isin(feats.row_of)]
    groups = [feats.index(g[Columns.item].astype(str).unique()) for _, g in frame.groupby(Columns.outfit, sort=True)]
    return [g for g in groups if len(g) >= 2]


def fit_set_model(model: ComplementaryModel, outfits: list[np.ndarray], epochs: int = 20,
                  seed: int = 0) -> OutfitSetModel:
    """Train a set scorer on real outfits (rows) against copies with one to all items swapped for same-type ones."""
    torch.set_num_threads(model.params.threads)
    rng = np.random.default_rng(seed)
    sampler = TypeSampler(model.feats.type_codes, rng)
    z_all = torch.from_numpy(model.embeddings())
    net = OutfitSetModel(z_all.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        for s in range(0, len(outfits), 256):
            batch = outfits[s:s + 256]
            negs = []
            for g in batch:
                swap = rng.random(len(g)) < rng.uniform(0.2, 1.0)
                swap[rng.integers(len(g))] = True  # at least one item differs
                negs.append(np.where(swap, sampler.draw(g), g))
            sets = list(batch) + negs
            rows = np.concatenate(sets)
            owner = torch.from_numpy(np.repeat(np.arange(len(sets)), [len(x) for x in sets]))
            y = torch.cat([torch.ones(len(batch)), torch.zeros(len(negs))])
            loss = loss_fn(net(z_all[torch.from_numpy(rows)], owner, len(sets)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    return net


def set_scores(net: OutfitSetModel, model: ComplementaryModel, sets: list[np.ndarray]) -> np.ndarray:
    """Set-model probabilities float32 (len(sets),)."""
    if not sets:
        return np.zeros(0, np.float32)
    z_all = torch.from_numpy(model.embeddings())
    rows = torch.from_numpy(np.concatenate(sets))
    owner = torch.from_numpy(np.repeat(np.arange(len(sets)), [len(x) for x in sets]))
    with torch.no_grad():
        return torch.sigmoid(net(z_all[rows], owner, len(sets))).numpy()


def compare_set_model(model: ComplementaryModel, train_outfits: pd.DataFrame, test_outfits: pd.DataFrame, seed: int = 7,
                      epochs: int = 20) -> dict:
    """Mean of pairwise scores vs a DeepSets outfit scorer on the same questions: FITB, outfit AUC with every
    item swapped, and outfit AUC with a single item swapped (the harder case)."""
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
