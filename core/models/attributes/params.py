"""Hyper-parameters of the attribute model: frozen, typed, validated, a JSON round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.features.text import DEFAULT_BUCKETS
from core.models.family import FamilyParams, check

KIND = "attributes"  # the job kind and the artifact kind (AttributeModel.kind)
MODES = ("masked", "tasks")


@dataclass(frozen=True)
class AttributeParams(FamilyParams):
    """Hyper-parameters; a version records them, so it says exactly how it was made."""

    min_support: int = 5  # a class needs this many labelled training items, the rest become "other"
    # an attribute applies to a type where ≥ this share of its items is labelled
    applicability_min_fraction: float = 0.02
    # "masked": joint loss over the labels present; "tasks": one dataset per attribute, random task order
    mode: Literal["masked", "tasks"] = "masked"
    class_weight_power: float = 0.0  # 0: none, 1: inverse frequency ("balanced"), 0.5 in between
    text_dim: int = 96
    word_dim: int = 48  # the word convolution (ASOS's text CNN) beside the n-gram bag; word_channels 0 turns it off
    word_channels: int = 128
    word_window: int = 3
    max_words: int = 128
    categorical_dim: int = 16
    hidden: int = 256
    dropout: float = 0.2
    epochs: int = 6
    batch_size: int = 128
    lr: float = 3e-3
    text_lr: float = 0.05
    weight_decay: float = 1e-5
    buckets: int = DEFAULT_BUCKETS
    min_df: int = 2  # text n-grams in fewer training items are dropped
    suspect_threshold: float = 0.9
    # The hybrid (ASOS's network plus what a linear model reads well): this share of the training items is held
    # out to choose, per attribute, the weight w of p = w·p_network + (1-w)·p_linear (TF-IDF + logistic
    # regression); 0 serves the network alone. hybrid_refit: after w is chosen, fit both halves again on every
    # training item (False serves the halves fitted without the held-out share: cheaper, a little less data).
    hybrid_holdout: float = 0.15
    hybrid_refit: bool = True
    linear_c: float = 10.0  # inverse L2 strength of the linear half (the TF-IDF + LR baseline's own C)
    seed: int = 0
    threads: int = 1  # 2 threads ran 6x slower than 1 on the shared, loaded 2 cores (OpenMP spinning)

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode must be one of {MODES}, got {self.mode!r}")
        small = [name for name in ("word_dim", "word_window", "max_words") if getattr(self, name) < 1]
        if self.word_channels < 0 or (self.word_channels and small):
            problems += [f"{name} must be at least 1 (word_channels 0 turns the word convolution off), got "
                         f"{getattr(self, name)}" for name in small or ["word_channels"]]
        if not 0.0 <= self.hybrid_holdout < 0.5:
            problems.append(f"hybrid_holdout must be in [0, 0.5) (0 serves the network alone), got "
                            f"{self.hybrid_holdout}")
        if self.linear_c <= 0:
            problems.append(f"linear_c must be positive, got {self.linear_c}")
        check(self, problems)
