"""Training the affinity model: LightFM WARP users×brands, brands×users or bi-directionally, chosen on validation."""

from __future__ import annotations

import copy
import math
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from core.data.idmap import IdMap
from core.errors import Problem, ValidationError
from core.features.interactions import InteractionMatrix
from core.features.splits import Split
from core.models.affinity.brand_side import BrandSide, blend, choose, fit_als
from core.models.affinity.data import AffinityData
from core.models.affinity.evaluate import ValidationSet, affinity_scorer, evaluate_both, pick_iteration
from core.models.affinity.model import AffinityModel, TrainingSummary
from core.models.affinity.params import AffinityParams

_SLOTS = ("embeddings", "embedding_gradients", "embedding_momentum", "biases", "bias_gradients", "bias_momentum")
_ROW_BIAS = ("user_biases", "user_bias_gradients", "user_bias_momentum")
# AUC needs a sort per query: per iteration only where that stays cheap (≤ 50M user–brand cells).
_AUC_CELLS = 50_000_000


class ProgressLike(Protocol):
    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None: ...


class _NoProgress:
    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        return None


def hand_over(source: LightFM, target: LightFM) -> None:
    """Copy ALL learned state of one LightFM model into the transposed one, rows and columns swapping roles.

    source.user_* -> target.item_* and source.item_* -> target.user_*, for embeddings, biases and the
    optimiser accumulators (adagrad `*_gradients`, adadelta `*_momentum`), in place.
    """
    for a, b in (("user", "item"), ("item", "user")):
        for slot in _SLOTS:
            dst = getattr(target, f"{b}_{slot}")
            np.copyto(dst, getattr(source, f"{a}_{slot}"))


_INIT_ROWS = 65_536  # rows drawn at once: float64 temporaries of 32 MB at 64 factors, not 1.5 GB at 1M users


def initialize(model: LightFM, n_components: int, n_items: int, n_users: int) -> None:
    """LightFM's `_initialize`, bit for bit (same draws from `model.random_state`, same arrays), drawing the
    embeddings a block of rows at a time: LightFM's own builds three float64 copies of the whole matrix, which at
    1M users was the training's memory peak."""
    rs = model.random_state
    ones = model.learning_schedule == "adagrad"  # adagrad's accumulators start at 1, adadelta's at 0
    for side, n in (("item", n_items), ("user", n_users)):
        embeddings = np.empty((n, n_components), dtype=np.float32)
        for start in range(0, n, _INIT_ROWS):
            stop = min(start + _INIT_ROWS, n)
            embeddings[start:stop] = (rs.rand(stop - start, n_components) - 0.5) / n_components
        fill = np.ones if ones else np.zeros
        setattr(model, f"{side}_embeddings", embeddings)
        setattr(model, f"{side}_embedding_gradients", fill((n, n_components), dtype=np.float32))
        setattr(model, f"{side}_embedding_momentum", np.zeros((n, n_components), dtype=np.float32))
        setattr(model, f"{side}_biases", np.zeros(n, dtype=np.float32))
        setattr(model, f"{side}_bias_gradients", fill(n, dtype=np.float32))
        setattr(model, f"{side}_bias_momentum", np.zeros(n, dtype=np.float32))


def sample_weights(matrix: sp.coo_matrix, weighting: str) -> np.ndarray:
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

    def __init__(self, matrix: sp.spmatrix, user_ids: IdMap, brand_ids: IdMap,
                 params: AffinityParams | None = None) -> None:
        self.params = params or AffinityParams()
        p = self.params
        csr = sp.csr_matrix(matrix, dtype=np.float32)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        if csr.nnz == 0:
            raise ValidationError([Problem("interactions", None, None,
                                           "no user–brand interactions to train on; import interactions first")])
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
        # The balance settings shape only the transposed half of a bi-directional run; a transpose-only run is plain
        # WARP.
        bidirectional = p.direction == "bidirectional"
        transposed_lr = p.learning_rate * (p.transposed_lr_ratio if bidirectional else 1.0)
        transposed_ms = (p.transposed_max_sampled or p.max_sampled) if bidirectional else p.max_sampled
        self.users_model = LightFM(no_components=p.n_factors, loss="warp", learning_schedule=p.learning_schedule,
                                   learning_rate=p.learning_rate, max_sampled=p.max_sampled,
                                   user_alpha=p.user_alpha, item_alpha=p.brand_alpha, random_state=rng)
        self.brands_model = LightFM(no_components=p.n_factors, loss="warp", learning_schedule=p.learning_schedule,
                                    learning_rate=transposed_lr, max_sampled=transposed_ms,
                                    user_alpha=p.brand_alpha, item_alpha=p.user_alpha, random_state=rng)
        # LightFM sizes its arrays only inside fit(); the hand-over needs both sized before the first epoch.
        initialize(self.users_model, p.n_factors, shape[1], shape[0])
        initialize(self.brands_model, p.n_factors, shape[0], shape[1])
        # One starting point for both models, so "users" and "brands" runs differ only in direction.
        hand_over(self.users_model, self.brands_model)
        self.iteration = 0

    def epoch(self, which: str) -> None:
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
            self.epoch("users")
        if direction == "bidirectional":
            hand_over(self.users_model, self.brands_model)
            self.epoch("brands")
            hand_over(self.brands_model, self.users_model)
        if direction == "brands":
            self.epoch("brands")
        self.iteration += 1

    def polish(self, epochs: int | None = None) -> None:
        """Users×brands-only epochs after the alternation (bi-directional runs), handed to the transposed model."""
        for _ in range(self.params.polish_epochs if epochs is None else epochs):
            self.epoch("users")
        if self.params.direction == "bidirectional":
            hand_over(self.users_model, self.brands_model)

    def model(self, share: bool = False) -> AffinityModel:
        """The current state as an AffinityModel with `iterations` done so far (copies; training can continue).

        share=True uses the trainer's arrays instead: only to score before the next epoch (validation), saving a
        copy of the factors (250 MB at 1M users) per evaluation.
        """
        if self.params.direction == "brands":
            m = self.brands_model
            parts = (m.item_embeddings, m.user_embeddings, m.item_biases, m.user_biases)
        else:
            m = self.users_model
            parts = (m.user_embeddings, m.item_embeddings, m.user_biases, m.item_biases)
        arrays = (np.array(x, dtype=np.float32, copy=not share) for x in parts)
        return AffinityModel(self.user_ids, self.brand_ids, *arrays,
                             params=self.params.replace(iterations=self.iteration))

    def polished(self, share: bool = False) -> AffinityModel:
        """The model a run stopped here would return: polish epochs on a copy, this trainer continues unpolished
        (share=True without polish epochs: see `model`)."""
        if not self.params.polish_epochs:
            return self.model(share)
        clone = copy.copy(self)
        clone.users_model = copy.deepcopy(self.users_model)
        clone.brands_model = copy.deepcopy(self.brands_model)
        clone.polish()
        return clone.model()


def fit(data: AffinityData, params: AffinityParams, progress: ProgressLike | None = None) -> AffinityModel:
    """`fit_matrices` on a workspace's interactions: the params' validation split, then all pairs weighted."""
    return fit_matrices(lambda: data.split(params), lambda: data.matrix(params), params, progress)


def fit_matrices(split_of: Callable[[], Split], all_of: Callable[[], InteractionMatrix], params: AffinityParams,
                 progress: ProgressLike | None = None) -> AffinityModel:
    """Validate on a split (both directions), choose the iteration count and the brand side, refit on all pairs.

    With `test_fraction` > 0 the first 70% of the progress is the validation curve on `split_of()`: the seeded
    samples of `ValidationSet.of` ranked after every `eval_every`-th iteration and the last, stopping once
    `patience` evaluations brought no better iteration. `select_iterations` refits for the iteration that was best
    from both sides, else for all of them (no early stop). With `challenge_brand_side`, ALS and blends compete with
    the chosen iteration for the brand side on the same held-out pairs (`brand_side.choose`); a winner other than
    the bi-directional model is refitted on `all_of()` too. The summary's `timings` split the seconds into
    validation (ranking the held-out pairs), training (epochs, both runs; ALS) and preparing (split, matrices),
    wall and CPU.
    """
    progress = progress or _NoProgress()
    clock = _Clock()
    curve: list[dict[str, Any]] = []
    split_info: dict[str, Any] = {}
    n_iter = params.iterations
    validate = bool(params.test_fraction) and n_iter > 0
    share = 0.7 if validate else 0.0
    weight, validation = 1.0, {}
    if validate:
        progress.update(0.0, "splitting interactions for validation")
        with clock("preparing"):
            split = split_of()
            split_info = split.summary()
            held_out = ValidationSet.of(split, params.validation_users, params.validation_brands, params.seed)
            trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, params)
            with_auc = split.train.shape[0] * split.train.shape[1] <= _AUC_CELLS
            train_pairs = split.train if params.challenge_brand_side else None
            del split  # the ValidationSet and the trainer hold what is still needed
        spill = _Spill()
        for it in range(1, n_iter + 1):
            with clock("training"):
                trainer.iterate()
            if it % params.eval_every and it < n_iter:
                continue
            with clock("validation"):
                current = trainer.polished(share=True)
                metrics = evaluate_both(affinity_scorer(current), held_out, with_auc=with_auc)
            curve.append({"iteration": it, **metrics})
            progress.update(share * it / n_iter, f"validation iteration {it}/{n_iter}: user P@10 "
                            f"{metrics['user_precision@10']:.4f}, brand P@10 {metrics['brand_precision@10']:.4f}",
                            metrics={"iteration": it, "user_precision@10": metrics["user_precision@10"],
                                     "brand_precision@10": metrics["brand_precision@10"],
                                     "user_recall@10": metrics["user_recall@10"],
                                     "brand_recall@10": metrics["brand_recall@10"]})
            since_best = len(curve) - 1 - pick_iteration(curve)
            if train_pairs is not None and it < n_iter:
                # The brand-side candidates meet the iteration that will be refitted, and a later evaluation can
                # move the pick back to any earlier one (each side is judged against its best so far), so every
                # evaluated iteration waits on disk: a copy in memory beside the trainer's state would raise the
                # peak by 256 MB at 1M customers. The last iteration is still in the trainer.
                with clock("validation"):
                    spill.save(current, it)
            if params.select_iterations and params.patience and since_best >= params.patience:
                break  # no better iteration for `patience` evaluations: later ones are not worth their epochs
        chosen = curve[pick_iteration(curve)] if params.select_iterations else curve[-1]
        n_iter = int(chosen["iteration"])
        # The validation run's LightFM state (as large as the final model's) must go before the refit allocates.
        del trainer
        if train_pairs is not None:
            if int(curve[-1]["iteration"]) != n_iter:  # the pick is not the last iteration: read it back
                ids = (current.user_ids, current.brand_ids, current.params)
                del current  # before its replacement is read: 256 MB at 1M customers
                current = spill.load(*ids, iteration=n_iter)
            progress.update(share, "brand side: ALS and blends against the bi-directional model")
            with clock("training"):
                als = fit_als(train_pairs, params.n_factors, params.als_regularization, params.seed)
            del train_pairs
            with clock("validation"):
                weight, validation = choose(current, als, held_out)
            del als
        spill.close()
        del held_out, current
    final_params = params.replace(iterations=n_iter)
    with clock("preparing"):
        full = all_of()
    progress.update(share, f"training on all {full.n_interactions:,} user–brand pairs for {n_iter} iterations")
    with clock("preparing"):
        trainer = AffinityTrainer(full.matrix, full.user_ids, full.column_ids, final_params)
    n_interactions = full.n_interactions
    # ALS after the refit, once the trainer's gradients and momenta are gone (+256 MB at 1M customers otherwise)
    pairs = full.matrix if weight < 1.0 else None
    del full  # the trainer keeps its own copies of the pairs
    for it in range(1, n_iter + 1):
        with clock("training"):
            trainer.iterate()
        progress.update(share + (1 - share) * 0.95 * it / max(n_iter, 1), f"final model: iteration {it}/{n_iter}")
    with clock("training"):
        trainer.polish()
    chosen_point = next((c for c in curve if c["iteration"] == n_iter), {})
    metrics = {k: v for k, v in chosen_point.items()
               if k != "iteration" and not (isinstance(v, float) and math.isnan(v))}
    # the trainer goes with this function: its arrays become the model's instead of being copied (250 MB at 1M)
    model = trainer.model(share=True)
    del trainer
    side = BrandSide()
    if validation:
        with clock("training"):
            if pairs is not None:
                progress.update(share + (1 - share) * 0.97,
                                f"brand side: ALS on all pairs for {BrandSide(weight).label}")
                als = fit_als(pairs, params.n_factors, params.als_regularization, params.seed)
                del pairs
                side = blend(model, als, weight, validation, params.als_regularization)
            else:
                side = BrandSide(1.0, validation, params.als_regularization)
    return AffinityModel(model.user_ids, model.brand_ids, model.user_factors, model.brand_factors, model.user_bias,
                         model.brand_bias, final_params,
                         TrainingSummary(curve, metrics, split_info, n_interactions, clock.seconds()), side)


class _Spill:
    """Evaluated iterations' factors and biases in files while the trainer goes on changing its own in place."""

    def __init__(self) -> None:
        # removed by close(), or when this object is collected after an error
        self._folder = tempfile.TemporaryDirectory(prefix="atelier-affinity-")

    def _path(self, iteration: int) -> Path:
        return Path(self._folder.name) / f"iteration-{iteration}.npz"

    def save(self, model: AffinityModel, iteration: int) -> None:
        np.savez(self._path(iteration), user_factors=model.user_factors, brand_factors=model.brand_factors,
                 user_bias=model.user_bias, brand_bias=model.brand_bias)

    def load(self, user_ids: IdMap, brand_ids: IdMap, params: AffinityParams, *, iteration: int) -> AffinityModel:
        with np.load(self._path(iteration)) as saved:
            return AffinityModel(user_ids, brand_ids, saved["user_factors"], saved["brand_factors"],
                                 saved["user_bias"], saved["brand_bias"], params)

    def close(self) -> None:
        self._folder.cleanup()


class _Clock:
    """Wall seconds per phase, summed over every `with clock(phase):` block, and the process CPU seconds of each
    (`<phase>_cpu`: on a shared machine the CPU seconds say more about the work than the wall seconds)."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            for key, spent in ((phase, time.perf_counter() - start), (f"{phase}_cpu", time.process_time() - cpu)):
                self._seconds[key] = self._seconds.get(key, 0.0) + spent

    def seconds(self) -> dict[str, float]:
        return {phase: round(value, 3) for phase, value in self._seconds.items()}
