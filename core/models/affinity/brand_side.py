"""Champion/challenger for the brand side: the bi-directional model, ALS or a blend, chosen on the validation split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from core.errors import ArtifactError

if TYPE_CHECKING:
    from core.models.affinity.evaluate import ValidationSet
    from core.models.affinity.model import AffinityModel

# Share of the bi-directional model in the candidates, best first on ties: 1 is the bi-directional model alone
# (the headline, so it wins a tie), 0 is ALS alone.
WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)
ALS_ITERATIONS, ALS_ALPHA = 15, 10.0
_ROWS = 65_536  # user rows per block when summing the factor covariance (float64 temporaries of ~34 MB)


@dataclass(frozen=True)
class BrandSide:
    """How customers are ranked for a brand (the audience page, the brand side of the affinity table).

    weight: share of the bi-directional model in the blend (1 = it alone, 0 = ALS alone); validation: brand P@10 of
    every candidate on the validation split ({"1.0": …, "0.0": …}), the evidence for the choice. user_factors
    (n_users, d2) and brand_factors (n_brands, d2) float32 score a brand's customers as their product (each model
    standardised per brand, then blended); both None when the bi-directional model serves alone.
    """

    weight: float = 1.0
    validation: dict[str, float] = field(default_factory=dict)
    als_regularization: float | None = None
    user_factors: np.ndarray | None = None
    brand_factors: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.user_factors is None) != (self.brand_factors is None):
            raise ArtifactError("the brand side has user factors without brand factors (or the reverse): retrain")
        if self.user_factors is not None:
            for name in ("user_factors", "brand_factors"):
                object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32))
            if self.user_factors.shape[1] != self.brand_factors.shape[1]:
                raise ArtifactError("the brand side's user and brand factors differ in width: retrain")

    @property
    def source(self) -> str:
        """"bidirectional", "als" or "blend"."""
        return "bidirectional" if self.weight >= 1.0 else "als" if self.weight <= 0.0 else "blend"

    @property
    def label(self) -> str:
        """What the audience page says ranks its customers, e.g. "a blend: 75% bi-directional + 25% ALS"."""
        if self.source == "blend":
            return f"a blend: {self.weight:.0%} bi-directional + {1 - self.weight:.0%} ALS"
        return {"bidirectional": "the bi-directional model", "als": "ALS (implicit)"}[self.source]

    @property
    def served_precision(self) -> float | None:
        """Brand P@10 on the validation split of the candidate that serves (None without the contest)."""
        return self.validation.get(_key(self.weight))

    def margin(self) -> float | None:
        """Relative brand P@10 gain of the served candidate over the bi-directional model alone on validation."""
        served, alone = self.served_precision, self.validation.get(_key(1.0))
        if served is None or not alone:
            return None
        return served / alone - 1.0

    def explanation(self) -> str:
        """One sentence for the audience page: what ranks its customers and the held-out evidence for it."""
        if not self.validation:
            return (f"Customers are ranked by {self.label} (this version was trained without a validation split, "
                    "so no challenger was tried).")
        served = self.served_precision or 0.0
        if self.source == "bidirectional":
            others = {w: v for w, v in self.validation.items() if w != _key(1.0)}
            best = max(others.values(), default=None)
            return ("Customers are ranked by the bi-directional model: on held-out purchases its top 10 customers "
                    f"per brand held the most real buyers (brand P@10 {served:.3f}"
                    + (f"; ALS and blends with it at most {best:.3f})." if best is not None else ")."))
        margin = self.margin()
        return (f"Customers are ranked by {self.label}: on held-out purchases its top 10 customers per brand held "
                + (f"{margin:.0%} more real buyers than the bi-directional model's alone " if margin is not None
                   else "more real buyers than the bi-directional model's alone ")
                + f"(brand P@10 {served:.3f} vs {self.validation.get(_key(1.0), 0.0):.3f}). A customer's own "
                "brand list is the bi-directional model's.")

    def to_meta(self) -> dict[str, Any]:
        return {"weight": self.weight, "validation": dict(self.validation),
                "als_regularization": self.als_regularization}

    @classmethod
    def from_stored(cls, meta: dict[str, Any] | None, arrays: Any) -> BrandSide:
        """Rebuild from a version's meta and arrays; a version saved before the champion/challenger serves alone."""
        meta = dict(meta or {})
        weight = float(meta.get("weight", 1.0))
        users, brands = arrays.get("audience_user_factors"), arrays.get("audience_brand_factors")
        if weight < 1.0 and (users is None or brands is None):
            raise ArtifactError("this affinity version ranks audiences by ALS or a blend but lacks its factors "
                                "(audience_user_factors, audience_brand_factors): it is incomplete; retrain")
        return cls(weight, dict(meta.get("validation", {})), meta.get("als_regularization"), users, brands)


def _key(weight: float) -> str:
    return f"{weight:.2f}"


def fit_als(train: sp.csr_matrix, factors: int, regularization: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """implicit's ALS on users×brands (confidence alpha·log1p(weight)) → (user factors, brand factors) float32."""
    # heavy (numba kernels): imported on use
    from implicit.cpu.als import AlternatingLeastSquares  # noqa: PLC0415

    conf = sp.csr_matrix(train, dtype=np.float32, copy=True)
    conf.data = (ALS_ALPHA * np.log1p(conf.data)).astype(np.float32)
    with threadpool_limits(1, "blas"):  # implicit parallelises itself; nested BLAS threads only slow it down
        als = AlternatingLeastSquares(factors=factors, iterations=ALS_ITERATIONS, regularization=regularization,
                                      random_state=seed, num_threads=2)
        als.fit(conf, show_progress=False)
    return (np.asarray(als.user_factors, dtype=np.float32), np.asarray(als.item_factors, dtype=np.float32))


def _per_brand_sd(users: np.ndarray, brands: np.ndarray) -> np.ndarray:
    """sd over all users of users @ brands[b], for every brand b, from the users' factor covariance (no n×m scores)."""
    n, d = users.shape
    total, cross = np.zeros(d), np.zeros((d, d))
    for start in range(0, n, _ROWS):
        block = users[start:start + _ROWS].astype(np.float64)
        total += block.sum(axis=0)
        cross += block.T @ block
    mean = total / max(n, 1)
    cov = cross / max(n, 1) - np.outer(mean, mean)
    b = brands.astype(np.float64)
    sd = np.sqrt(np.maximum(np.einsum("bi,ij,bj->b", b, cov, b), 0.0))
    return np.where(sd > 0, sd, 1.0)


def blend(model: AffinityModel, als: tuple[np.ndarray, np.ndarray], weight: float,
          validation: dict[str, float] | None = None, regularization: float | None = None) -> BrandSide:
    """The brand side `weight`·z(bi-directional) + (1 − weight)·z(ALS), z standardising each brand over all users.

    A brand's own bias is the same for all its customers, so it drops out; the user bias stays as one more column.
    """
    validation = dict(validation or {})
    if weight >= 1.0:
        return BrandSide(1.0, validation, regularization)
    als_users, als_brands = als
    if weight <= 0.0:
        return BrandSide(0.0, validation, regularization, als_users, als_brands)
    lfm_users = np.hstack([model.user_factors, model.user_bias[:, None]])
    lfm_brands = np.hstack([model.brand_factors, np.ones((model.n_brands, 1), dtype=np.float32)])
    lfm_brands = lfm_brands * (weight / _per_brand_sd(lfm_users, lfm_brands))[:, None]
    als_brands = als_brands * ((1.0 - weight) / _per_brand_sd(als_users, als_brands))[:, None]
    return BrandSide(weight, validation, regularization, np.hstack([lfm_users, als_users]),
                     np.hstack([lfm_brands, als_brands]))


def choose(model: AffinityModel, als: tuple[np.ndarray, np.ndarray], held_out: ValidationSet,
           with_auc: bool = False) -> tuple[float, dict[str, float]]:
    """The candidate weight with the best brand P@10 on `held_out` (ties to the bi-directional side), and every
    candidate's brand P@10. `model` and `als` (`fit_als`) were both trained on the split's training pairs."""
    # here, not at the top: evaluate imports the model, which imports this module
    from core.models.affinity.evaluate import affinity_scorer, evaluate_both  # noqa: PLC0415

    validation: dict[str, float] = {}
    for weight in WEIGHTS:
        candidate = model.with_brand_side(blend(model, als, weight))
        scores = evaluate_both(affinity_scorer(candidate), held_out, with_auc=with_auc, sides=("brand",))
        validation[_key(weight)] = float(scores["brand_precision@10"])
        del candidate  # before the next blend is built: two of them would be 1 GB at 1M customers
    best = max(WEIGHTS, key=lambda w: (validation[_key(w)], w))
    return best, validation
