"""Brand affinity model: one set of user/brand factors and biases that ranks brands for a user and users for a brand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from core.data.idmap import IdMap
from core.errors import ArtifactError, UnknownIdError

ARTIFACT_KIND = "affinity"
_ARRAYS = ("user_ids", "brand_ids", "user_factors", "brand_factors", "user_bias", "brand_bias")


@dataclass(frozen=True)
class AffinityModel:
    """Scores are `user_factors @ brand_factors.T + user_bias[:, None] + brand_bias[None, :]`.

    user_factors: float32 (n_users, d); brand_factors: float32 (n_brands, d);
    user_bias: float32 (n_users,); brand_bias: float32 (n_brands,).
    `params` holds the training hyper-parameters and score conventions (JSON-able).
    """

    user_ids: IdMap
    brand_ids: IdMap
    user_factors: np.ndarray
    brand_factors: np.ndarray
    user_bias: np.ndarray
    brand_bias: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("user_factors", "brand_factors", "user_bias", "brand_bias"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32))
        n_users, n_brands = len(self.user_ids), len(self.brand_ids)
        if self.user_factors.ndim != 2 or self.user_factors.shape[0] != n_users:
            raise ArtifactError(f"user_factors has shape {self.user_factors.shape}, expected ({n_users}, d)")
        if self.brand_factors.ndim != 2 or self.brand_factors.shape != (n_brands, self.user_factors.shape[1]):
            raise ArtifactError(
                f"brand_factors has shape {self.brand_factors.shape}, expected ({n_brands}, {self.user_factors.shape[1]})"
            )
        if self.user_bias.shape != (n_users,) or self.brand_bias.shape != (n_brands,):
            raise ArtifactError("bias lengths do not match the id maps; the artifact is inconsistent, retrain")

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
        """Affinity of every user for one brand: float32 (n_users,) — one matrix-vector product."""
        self._check_index(brand_index, self.n_brands, "brand")
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
        """Scores of every user for several brands: float32 (len(brand_indices), n_users)."""
        idx = np.asarray(brand_indices, dtype=np.int64)
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
        users = np.arange(self.n_users, dtype=np.int64) if user_indices is None else np.asarray(user_indices, dtype=np.int64)
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

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for `ArtifactStore.save(ARTIFACT_KIND, arrays, meta)`: ids as unicode, factors float32."""
        return {
            "user_ids": self.user_ids.to_array(),
            "brand_ids": self.brand_ids.to_array(),
            "user_factors": self.user_factors,
            "brand_factors": self.brand_factors,
            "user_bias": self.user_bias,
            "brand_bias": self.brand_bias,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: dict[str, Any] | None = None) -> "AffinityModel":
        """Rebuild from `to_arrays()` output (e.g. `Artifact.arrays`); raises ArtifactError if arrays are missing."""
        missing = [name for name in _ARRAYS if name not in arrays]
        if missing:
            raise ArtifactError(f"affinity artifact lacks arrays {missing}; it was not written by this version, retrain")
        return cls(
            user_ids=IdMap.from_array(arrays["user_ids"]),
            brand_ids=IdMap.from_array(arrays["brand_ids"]),
            user_factors=arrays["user_factors"],
            brand_factors=arrays["brand_factors"],
            user_bias=arrays["user_bias"],
            brand_bias=arrays["brand_bias"],
            params=dict(params or {}),
        )

    @staticmethod
    def _check_index(index: int, n: int, what: str) -> None:
        if not 0 <= int(index) < n:
            raise UnknownIdError(f"{what} index {index} is out of range 0..{n - 1}; look the id up with the model's IdMap")


# --------------------------------------------------------------------------- training

_SLOTS = ("embeddings", "embedding_gradients", "embedding_momentum", "biases", "bias_gradients", "bias_momentum")
_ROW_BIAS = ("user_biases", "user_bias_gradients", "user_bias_momentum")
DIRECTIONS = ("bidirectional", "users", "brands")


@dataclass(frozen=True)
class AffinityParams:
    """Hyper-parameters of `AffinityTrainer`; round-trips through `to_dict` / `from_dict` (stored with a version).

    direction: "bidirectional" (alternate users×brands and brands×users epochs), "users" (plain WARP on
    users×brands) or "brands" (WARP on the transpose only). `transposed_lr_ratio` scales the learning rate of the
    brands×users half of a bi-directional iteration (the balance between the directions); `polish_epochs` are users×brands-only epochs after the last iteration. `freeze_row_bias` keeps
    LightFM's WARP from moving the row ("user") bias, which has no ranking gradient (see the README).
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

    def __post_init__(self) -> None:
        from core.errors import ValidationError, Problem

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
        if problems:
            raise ValidationError([Problem("affinity params", None, None, p) for p in problems])

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "AffinityParams":
        """Ignores unknown keys (params of other areas or newer versions) and keeps the defaults for absent ones."""
        from dataclasses import fields

        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def hand_over(source, target) -> None:
    """Copy ALL learned state of one LightFM model into the transposed one, rows and columns swapping roles.

    source.user_* -> target.item_* and source.item_* -> target.user_*, for embeddings, biases and the
    optimiser accumulators (adagrad `*_gradients`, adadelta `*_momentum`), in place.
    """
    for a, b in (("user", "item"), ("item", "user")):
        for slot in _SLOTS:
            dst = getattr(target, f"{b}_{slot}")
            np.copyto(dst, getattr(source, f"{a}_{slot}"))


def sample_weights(matrix, weighting: str) -> np.ndarray:
    """Per-non-zero WARP weights (float32, matrix.nnz) with mean 1, so the learning rate means the same for any data."""
    w = np.asarray(matrix.data, dtype=np.float64)
    if weighting == "binary" or w.size == 0:
        return np.ones(w.size, dtype=np.float32)
    if weighting == "log":
        w = np.log1p(np.maximum(w, 0.0))
    w = np.maximum(w, 1e-6)
    return (w / w.mean()).astype(np.float32)


class AffinityTrainer:
    """Trains LightFM WARP on users×brands, on brands×users, or bi-directionally (one model, handed over).

    matrix: float32 CSR (n_users, n_brands) of interaction weights. Call `iterate()` once per iteration
    (a bi-directional iteration is one epoch each way), `polish()` at the end, then `model()`.
    """

    def __init__(self, matrix, user_ids: IdMap, brand_ids: IdMap, params: AffinityParams | None = None) -> None:
        import scipy.sparse as sp
        from lightfm import LightFM

        self.params = params or AffinityParams()
        p = self.params
        csr = sp.csr_matrix(matrix, dtype=np.float32)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        if csr.nnz == 0:
            from core.errors import ValidationError, Problem

            raise ValidationError([Problem("interactions", None, None, "no user–brand interactions to train on; import interactions first")])
        self.user_ids, self.brand_ids = user_ids, brand_ids
        coo = csr.tocoo()
        weights = sample_weights(coo, p.sample_weighting)
        ones = np.ones(coo.nnz, dtype=np.float32)
        shape = coo.shape
        self._ub = (sp.coo_matrix((ones, (coo.row, coo.col)), shape=shape),
                    sp.coo_matrix((weights, (coo.row, coo.col)), shape=shape))
        self._bu = (sp.coo_matrix((ones, (coo.col, coo.row)), shape=shape[::-1]),
                    sp.coo_matrix((weights, (coo.col, coo.row)), shape=shape[::-1]))
        rng = np.random.RandomState(p.seed)
        # The balance settings shape only the transposed half of a bi-directional run; a transpose-only run is plain WARP.
        bidirectional = p.direction == "bidirectional"
        transposed_lr = p.learning_rate * (p.transposed_lr_ratio if bidirectional else 1.0)
        transposed_ms = (p.transposed_max_sampled or p.max_sampled) if bidirectional else p.max_sampled
        self.users_model = LightFM(no_components=p.n_factors, loss="warp", learning_schedule=p.learning_schedule,
                                   learning_rate=p.learning_rate, max_sampled=p.max_sampled,
                                   user_alpha=p.user_alpha, item_alpha=p.brand_alpha, random_state=rng)
        self.brands_model = LightFM(no_components=p.n_factors, loss="warp", learning_schedule=p.learning_schedule,
                                    learning_rate=transposed_lr, max_sampled=transposed_ms,
                                    user_alpha=p.brand_alpha, item_alpha=p.user_alpha, random_state=rng)
        self.users_model._initialize(p.n_factors, shape[1], shape[0])
        self.brands_model._initialize(p.n_factors, shape[0], shape[1])
        # One starting point for both models, so "users" and "brands" runs differ only in direction.
        hand_over(self.users_model, self.brands_model)
        self.iteration = 0

    def _epoch(self, which: str) -> None:
        model, (interactions, weights) = (
            (self.users_model, self._ub) if which == "users" else (self.brands_model, self._bu)
        )
        saved = [getattr(model, name).copy() for name in _ROW_BIAS] if self.params.freeze_row_bias else None
        model.fit_partial(interactions, sample_weight=weights, epochs=1, num_threads=self.params.num_threads)
        if saved is not None:
            for name, value in zip(_ROW_BIAS, saved):
                np.copyto(getattr(model, name), value)

    def iterate(self) -> None:
        """One iteration: an epoch in the configured direction(s), handing the state over between halves."""
        direction = self.params.direction
        if direction in ("users", "bidirectional"):
            self._epoch("users")
        if direction == "bidirectional":
            hand_over(self.users_model, self.brands_model)
            self._epoch("brands")
            hand_over(self.brands_model, self.users_model)
        if direction == "brands":
            self._epoch("brands")
        self.iteration += 1

    def polish(self, epochs: int | None = None) -> None:
        """Users×brands-only epochs after the alternation (bi-directional runs), handed to the transposed model."""
        for _ in range(self.params.polish_epochs if epochs is None else epochs):
            self._epoch("users")
        if self.params.direction == "bidirectional":
            hand_over(self.users_model, self.brands_model)

    def model(self) -> AffinityModel:
        """The current state as an AffinityModel (copies; training can continue)."""
        if self.params.direction == "brands":
            m = self.brands_model
            parts = (m.item_embeddings, m.user_embeddings, m.item_biases, m.user_biases)
        else:
            m = self.users_model
            parts = (m.user_embeddings, m.item_embeddings, m.user_biases, m.item_biases)
        return AffinityModel(self.user_ids, self.brand_ids, *(np.array(x, dtype=np.float32, copy=True) for x in parts),
                             params={**self.params.to_dict(), "iterations_done": self.iteration})


def train(matrix, user_ids: IdMap, brand_ids: IdMap, params: AffinityParams | None = None, callback=None) -> AffinityModel:
    """Train for `params.iterations` (+ polish) and return the model; `callback(trainer)` runs after each iteration."""
    trainer = AffinityTrainer(matrix, user_ids, brand_ids, params)
    for _ in range(trainer.params.iterations):
        trainer.iterate()
        if callback is not None:
            callback(trainer)
    trainer.polish()
    return trainer.model()
