"""Hyper-parameters of the affinity family: the WARP run, its interaction weighting and its validation split."""

from __future__ import annotations

from dataclasses import dataclass

from core.columns import EVENTS
from core.models.family import FamilyParams, check

DIRECTIONS = ("bidirectional", "users", "brands")


@dataclass(frozen=True)
class AffinityParams(FamilyParams):
    """Everything a version is made with; stored as the version's `params`.

    direction: "bidirectional" (alternate users×brands and brands×users epochs), "users" (plain WARP on
    users×brands) or "brands" (WARP on the transpose only). `transposed_lr_ratio` scales the learning rate of the
    brands×users half of a bi-directional iteration (the balance between the directions); `polish_epochs` are
    users×brands-only epochs after the last iteration. `freeze_row_bias` keeps LightFM's WARP from moving the row
    ("user") bias, which has no ranking gradient (see the README).
    event_weights (None = core.columns.DEFAULT_EVENT_WEIGHTS) and half_life_days weight the interactions;
    test_fraction of the pairs validate every iteration (0 skips validation) and, with select_iterations, the
    final model is refitted on everything for the iteration count that was best from both sides. A trained
    model's `iterations` is the count it was refitted with.
    Validation ranks every brand for at most `validation_users` held-out users and every user for at most
    `validation_brands` held-out brands (seeded samples of the split, the same for the same split; None = all),
    after every `eval_every`-th iteration and the last; it stops once `patience` evaluations in a row brought no
    better iteration (0: never stops early).
    challenge_brand_side: with validation, ALS (`als_regularization`) and blends of it with this model compete for
    the brand side on the validation split, and the best ranks customers for a brand (`brand_side.py`).
    """

    n_factors: int = 64
    iterations: int = 10
    learning_rate: float = 0.05
    transposed_lr_ratio: float = 0.5  # measured: 1.0 costs the user side 3-4% (benchmarks/affinity_quality.py)
    learning_schedule: str = "adagrad"
    max_sampled: int = 10
    transposed_max_sampled: int | None = None
    user_alpha: float = 0.0
    brand_alpha: float = 0.0
    direction: str = "bidirectional"
    freeze_row_bias: bool = True
    polish_epochs: int = 0
    sample_weighting: str = "log"
    seed: int = 42
    num_threads: int = 2
    event_weights: dict | None = None
    half_life_days: float | None = None
    test_fraction: float = 0.2
    select_iterations: bool = True
    # sized so that validation stays under a fifth of training at 1M customers (docs/affinity.md)
    validation_users: int | None = 20_000
    validation_brands: int | None = 300
    eval_every: int = 1
    patience: int = 2
    challenge_brand_side: bool = True
    als_regularization: float = 20.0  # the comparison's inner split chose 20 on the demo and on Tmall

    def __post_init__(self) -> None:
        problems = []
        if self.direction not in DIRECTIONS:
            problems.append(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.learning_schedule not in ("adagrad", "adadelta"):
            problems.append("learning_schedule must be 'adagrad' or 'adadelta'")
        if self.sample_weighting not in ("log", "binary", "raw"):
            problems.append("sample_weighting must be 'log', 'binary' or 'raw'")
        if self.n_factors < 1 or self.iterations < 0 or self.polish_epochs < 0 or self.max_sampled < 1:
            problems.append("n_factors and max_sampled must be ≥ 1, iterations and polish_epochs ≥ 0")
        if self.learning_rate <= 0 or self.transposed_lr_ratio <= 0:
            problems.append("learning_rate and transposed_lr_ratio must be > 0")
        if not 0.0 <= self.test_fraction < 0.9:
            problems.append(f"test_fraction must be in [0, 0.9); 0 skips validation, got {self.test_fraction}")
        if any(n is not None and n < 1 for n in (self.validation_users, self.validation_brands)):
            problems.append("validation_users and validation_brands must be ≥ 1 (None ranks them all)")
        if self.als_regularization <= 0:
            problems.append("als_regularization must be > 0")
        if self.eval_every < 1 or self.patience < 0:
            problems.append("eval_every must be ≥ 1 and patience ≥ 0 (0 never stops early)")
        unknown = sorted(set(self.event_weights or ()) - set(EVENTS))
        if unknown:
            problems.append(f"event_weights name unknown events {unknown}; use {list(EVENTS)}")
        check(self, problems)
