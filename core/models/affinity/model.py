"""Brand affinity model: one set of user/brand factors and biases that ranks brands for a user and users for a brand."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import numpy as np

from core.data.idmap import IdMap
from core.errors import ArtifactError, UnknownIdError
from core.models.affinity.brand_side import BrandSide
from core.models.affinity.evaluate import evaluate_model
from core.models.affinity.params import AffinityParams
from core.models.family import require_arrays

if TYPE_CHECKING:
    from core.models.affinity.data import AffinityData

_ARRAYS = ("user_ids", "brand_ids", "user_factors", "brand_factors", "user_bias", "brand_bias")


@dataclass(frozen=True)
class TrainingSummary:
    """How a version was chosen: validation metrics per iteration (`curve`), those of the chosen iteration, the
    split, and the wall seconds per phase of training (`timings`: validation, training, preparing)."""

    curve: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    n_interactions: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AffinityModel:
    """Scores are `user_factors @ brand_factors.T + user_bias[:, None] + brand_bias[None, :]`.

    user_factors: float32 (n_users, d); brand_factors: float32 (n_brands, d);
    user_bias: float32 (n_users,); brand_bias: float32 (n_brands,).
    Customers for a brand are ranked by `brand_side`: these scores, or ALS or a blend of both where that ranked
    customers better on the validation split (`scores_for_brand(s)`); brands for a customer always by these.
    """

    kind: ClassVar[str] = "affinity"
    Params: ClassVar[type[AffinityParams]] = AffinityParams

    user_ids: IdMap
    brand_ids: IdMap
    user_factors: np.ndarray
    brand_factors: np.ndarray
    user_bias: np.ndarray
    brand_bias: np.ndarray
    params: AffinityParams = field(default_factory=AffinityParams)
    training: TrainingSummary = field(default_factory=TrainingSummary)
    brand_side: BrandSide = field(default_factory=BrandSide)

    def __post_init__(self) -> None:
        for name in ("user_factors", "brand_factors", "user_bias", "brand_bias"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32))
        n_users, n_brands = len(self.user_ids), len(self.brand_ids)
        if self.user_factors.ndim != 2 or self.user_factors.shape[0] != n_users:
            raise ArtifactError(f"user_factors has shape {self.user_factors.shape}, expected ({n_users}, d)")
        if self.brand_factors.ndim != 2 or self.brand_factors.shape != (n_brands, self.user_factors.shape[1]):
            raise ArtifactError(
                f"brand_factors has shape {self.brand_factors.shape}, expected ({n_brands}, "
                f"{self.user_factors.shape[1]})"
            )
        if self.user_bias.shape != (n_users,) or self.brand_bias.shape != (n_brands,):
            raise ArtifactError("bias lengths do not match the id maps; the artifact is inconsistent, retrain")
        side = self.brand_side
        if side.user_factors is not None and (side.user_factors.shape[0] != n_users
                                              or side.brand_factors.shape[0] != n_brands):
            raise ArtifactError("the brand side's factors do not match the id maps; the artifact is inconsistent, "
                                "retrain")

    def with_brand_side(self, brand_side: BrandSide) -> AffinityModel:
        """The same model ranking customers for a brand by `brand_side`."""
        return dataclasses.replace(self, brand_side=brand_side)

    # ------------------------------------------------------------------ the family contract
    @classmethod
    def train(cls, data: AffinityData, params: AffinityParams, progress: Any = None) -> AffinityModel:
        """Validate per iteration (both directions) on a split of `data`, then refit on all of it; see `train.fit`."""
        # train.py builds AffinityModel, so it is imported on use
        from core.models.affinity.train import fit  # noqa: PLC0415

        return fit(data, params, progress)

    def evaluate(self, data: AffinityData) -> dict[str, float | int]:
        """Both-direction precision/recall/NDCG@10 and AUC on the held-out pairs of `data`'s split."""
        return evaluate_model(self, data)

    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (ids as unicode, factors float32) and meta: params, the validation curve and sizes."""
        arrays = {
            "user_ids": self.user_ids.to_array(),
            "brand_ids": self.brand_ids.to_array(),
            "user_factors": self.user_factors,
            "brand_factors": self.brand_factors,
            "user_bias": self.user_bias,
            "brand_bias": self.brand_bias,
        }
        t = self.training
        meta = {"params": self.params.to_dict(), "metrics": t.metrics, "curve": t.curve, "split": t.split,
                "n_users": self.n_users, "n_brands": self.n_brands, "n_interactions": t.n_interactions,
                "timings": t.timings, "brand_side": self.brand_side.to_meta()}
        if self.brand_side.user_factors is not None:
            arrays["audience_user_factors"] = self.brand_side.user_factors
            arrays["audience_brand_factors"] = self.brand_side.brand_factors
        return arrays, meta

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> AffinityModel:
        """Rebuild a saved version (any version since the first: unknown params keep their defaults)."""
        require_arrays(cls.kind, arrays, _ARRAYS)
        training = TrainingSummary(list(meta.get("curve", [])), dict(meta.get("metrics", {})),
                                   dict(meta.get("split", {})), int(meta.get("n_interactions", 0)),
                                   dict(meta.get("timings", {})))
        return cls(
            user_ids=IdMap.from_array(arrays["user_ids"]),
            brand_ids=IdMap.from_array(arrays["brand_ids"]),
            user_factors=arrays["user_factors"],
            brand_factors=arrays["brand_factors"],
            user_bias=arrays["user_bias"],
            brand_bias=arrays["brand_bias"],
            params=AffinityParams.from_dict(meta.get("params"), strict=False),
            training=training,
            brand_side=BrandSide.from_stored(meta.get("brand_side"), arrays),
        )

    # ------------------------------------------------------------------ scoring
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_brands(self) -> int:
        return len(self.brand_ids)

    @property
    def n_factors(self) -> int:
        return int(self.user_factors.shape[1])

    def scores_for_brand(self, brand_index: int) -> np.ndarray:
        """Affinity of every user for one brand as `brand_side` ranks them: float32 (n_users,), one matrix-vector
        product."""
        self._check_index(brand_index, self.n_brands, "brand")
        side = self.brand_side
        if side.user_factors is not None:
            return side.user_factors @ side.brand_factors[brand_index]
        scores = self.user_factors @ self.brand_factors[brand_index]
        scores += self.user_bias
        scores += self.brand_bias[brand_index]
        return scores

    def scores_for_user(self, user_index: int) -> np.ndarray:
        """Affinity of one user for every brand: float32 (n_brands,)."""
        self._check_index(user_index, self.n_users, "user")
        scores = self.brand_factors @ self.user_factors[user_index]
        scores += self.brand_bias
        scores += self.user_bias[user_index]
        return scores

    def scores_for_users(self, user_indices: np.ndarray) -> np.ndarray:
        """Scores of several users for every brand: float32 (len(user_indices), n_brands)."""
        idx = np.asarray(user_indices, dtype=np.int64)
        scores = self.user_factors[idx] @ self.brand_factors.T
        scores += self.brand_bias[None, :]
        scores += self.user_bias[idx, None]
        return scores

    def scores_for_brands(self, brand_indices: np.ndarray) -> np.ndarray:
        """Scores of every user for several brands as `brand_side` ranks them: float32 (len(brand_indices), n_users)."""
        idx = np.asarray(brand_indices, dtype=np.int64)
        side = self.brand_side
        if side.user_factors is not None:
            return side.brand_factors[idx] @ side.user_factors.T
        scores = self.brand_factors[idx] @ self.user_factors.T
        scores += self.user_bias[None, :]
        scores += self.brand_bias[idx, None]
        return scores

    def top_brands_for_users(
        self, k: int, user_indices: np.ndarray | None = None, chunk: int = 4096
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k brands per user, best first: (indices int64 (n, k), scores float32 (n, k)).

        Works in chunks of `chunk` users with one reused score buffer, so memory stays at
        chunk × n_brands floats whatever the number of users (a fresh array per chunk costs ~2x).
        """
        users = np.arange(self.n_users,
                          dtype=np.int64) if user_indices is None else np.asarray(user_indices, dtype=np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.n_users):
            raise UnknownIdError(f"user index out of range 0..{self.n_users - 1}")
        k = int(min(max(k, 0), self.n_brands))
        n = len(users)
        out_idx = np.empty((n, k), dtype=np.int64)
        out_scores = np.empty((n, k), dtype=np.float32)
        if n == 0 or k == 0:
            return out_idx, out_scores
        chunk = max(1, int(chunk))
        brand_t = np.ascontiguousarray(self.brand_factors.T)
        buffer = np.empty((min(chunk, n), self.n_brands), dtype=np.float32)
        for start in range(0, n, chunk):
            rows = users[start : start + chunk]
            m = len(rows)
            scores = buffer[:m]
            np.matmul(self.user_factors[rows], brand_t, out=scores)
            scores += self.brand_bias[None, :]  # the user bias does not change a user's brand order
            if k < self.n_brands:
                top = np.argpartition(scores, self.n_brands - k, axis=1)[:, self.n_brands - k :]
            else:
                top = np.broadcast_to(np.arange(self.n_brands), (m, self.n_brands)).copy()
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            out_idx[start : start + m] = np.take_along_axis(top, order, axis=1)
            out_scores[start : start + m] = np.take_along_axis(top_scores, order, axis=1) + self.user_bias[rows, None]
        return out_idx, out_scores

    @staticmethod
    def _check_index(index: int, n: int, what: str) -> None:
        if not 0 <= int(index) < n:
            raise UnknownIdError(f"{what} index {index} is out of range 0..{n - 1}; look the id up with the model's "
                                 "IdMap")
