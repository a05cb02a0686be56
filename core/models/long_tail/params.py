"""Hyper-parameters of the long-tail family (ALS, content encoder, blending) and of its cold-start protocol."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.family import FamilyParams, check


@dataclass(frozen=True)
class LongTailParams(FamilyParams):
    """Every knob of the long-tail model; stored with each version.

    A trained model's `blend_k` is the k its blended space was built with (chosen on the encoder's validation
    items when `fit_blend_k`).
    """

    factors: int = 32  # demo: 16–32 beat 64 on every bucket (README); larger catalogues may want more
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 10.0  # ALS confidence = 1 + alpha * weight
    threshold: int = 10  # items with at least this many interacting users train the encoder
    val_fraction: float = 0.15  # of those items, held out to validate the encoder
    hidden: int = 256
    embed_dim: int = 16
    dropout: float = 0.2
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-5
    cosine_weight: float = 1.0  # loss = dim * MSE(unit vectors) + cosine_weight * (1 - cos)
    patience: int = 6
    # Encoders averaged (same training items, their own initialisation and batch order): one is a high-variance
    # fit; five lifted the demo's tail NDCG@10 from 0.090 to 0.103 over 10 seeds (docs/long-tail.md).
    encoders: int = 5
    blend_k: float = 5.0  # blended = w * als + (1 - w) * predicted, w = n / (n + blend_k)
    fit_blend_k: bool = True  # choose blend_k on the encoder's validation items (see `fit_blend_k`); else keep it
    seed: int = 42
    threads: int = 2  # ALS threads
    torch_threads: int = 1  # on 2 shared cores, 2 torch threads spin-wait and run 10× slower than 1

    def __post_init__(self) -> None:
        problems = []
        if self.factors < 2 or self.iterations < 1 or self.epochs < 1 or self.threshold < 1:
            problems.append("factors ≥ 2, iterations ≥ 1, epochs ≥ 1 and threshold ≥ 1 are required")
        if not 1 <= self.encoders <= 10:
            problems.append(f"encoders must be between 1 and 10, got {self.encoders}")
        check(self, problems)


@dataclass(frozen=True)
class EvalParams(FamilyParams):
    """The cold-start protocol's knobs."""

    holdout_fraction: float = 0.25  # of items with ≥ min_interactions users, chosen with `seed`
    keep_choices: tuple[int, ...] = (0, 0, 1, 2, 5, 10, 25)  # interactions left known per held-out item
    min_interactions: int = 2
    k: int = 10
    seed: int = 7
    min_lift: float = 2.0  # items task: a co-interacted item is relevant only if co-count ≥ min_lift × chance
    max_items: int = 2000  # held-out items scored (a seeded sample beyond this; all still leave training)

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.holdout_fraction < 1:
            problems.append("holdout_fraction must be between 0 and 1")
        check(self, problems)
