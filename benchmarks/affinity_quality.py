"""Bi-directional affinity training, measured: both-direction P@10 per iteration for each training variant."""

# Run: nice -n 10 .venv/bin/python -m benchmarks.affinity_quality [--quick] [--configs a,b] [--json out.json]
# Every variant starts from the same seeded initial state on the same planted 80/20 split, and is
# evaluated after each iteration from both sides; the table reports each side's best iteration and
# the user side at the brand side's best iteration (what a single saved model would give).

from __future__ import annotations

import argparse
import json
import time

from core.features.interactions import planted_interactions
from core.features.splits import split_interactions
from core.models.affinity import AffinityParams
from core.models.affinity.evaluate import affinity_scorer, evaluate_both
from core.models.affinity.train import AffinityTrainer

CONFIGS: dict[str, dict] = {
    "warp": dict(direction="users"),
    "warp_transposed": dict(direction="brands"),
    "bidir_naive": dict(direction="bidirectional", freeze_row_bias=False, transposed_lr_ratio=1.0),
    "bidir_frozen_bias": dict(direction="bidirectional", transposed_lr_ratio=1.0),
    "bidir_lr_t0.5": dict(direction="bidirectional", transposed_lr_ratio=0.5),
    "bidir_lr_t0.25": dict(direction="bidirectional", transposed_lr_ratio=0.25),
    "bidir_lr_t0.35": dict(direction="bidirectional", transposed_lr_ratio=0.35),
    "bidir_naive_lr_t0.5": dict(direction="bidirectional", freeze_row_bias=False, transposed_lr_ratio=0.5),
    "bidir_polish1": dict(direction="bidirectional", transposed_lr_ratio=1.0, polish_epochs=1),
    "bidir_lr_t0.5_polish1": dict(direction="bidirectional", transposed_lr_ratio=0.5, polish_epochs=1),
    "bidir_ms_t3": dict(direction="bidirectional", transposed_lr_ratio=1.0, transposed_max_sampled=3),
    "bidir_ms_t30": dict(direction="bidirectional", transposed_lr_ratio=1.0, transposed_max_sampled=30),
    "bidir_lr_t0.5_ms30": dict(direction="bidirectional", transposed_lr_ratio=0.5, transposed_max_sampled=30),
}


def run_config(split, overrides: dict, iterations: int, base: dict | None = None) -> dict:
    """Train one variant, evaluating both sides after every iteration (and after the polish epochs)."""
    params = AffinityParams.from_dict({**(base or {}), **overrides, "iterations": iterations})
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, params)
    curve = []
    start = time.perf_counter()
    for it in range(1, iterations + 1):
        trainer.iterate()
        if params.polish_epochs:
            # Evaluate what a run stopped here would return: a copy polished, training continues unpolished.
            snapshot = _polished_copy(trainer, params.polish_epochs)
            metrics = evaluate_both(affinity_scorer(snapshot), split, with_auc=False)
        else:
            metrics = evaluate_both(affinity_scorer(trainer.model()), split, with_auc=False)
        curve.append({"iteration": it, "user_p10": metrics["user_precision@10"],
                      "brand_p10": metrics["brand_precision@10"],
                      "user_r10": metrics["user_recall@10"], "brand_r10": metrics["brand_recall@10"]})
    best_user = max(curve, key=lambda r: r["user_p10"])
    best_brand = max(curve, key=lambda r: r["brand_p10"])
    best_sum = max(curve, key=lambda r: r["user_p10"] / max(1e-9, best_user["user_p10"])
                   + r["brand_p10"] / max(1e-9, best_brand["brand_p10"]))
    return {"params": overrides, "curve": curve, "best_user_p10": best_user["user_p10"],
            "best_user_iter": best_user["iteration"],
            "best_brand_p10": best_brand["brand_p10"], "best_brand_iter": best_brand["iteration"],
            "balanced_iter": best_sum["iteration"], "balanced_user_p10": best_sum["user_p10"],
            "balanced_brand_p10": best_sum["brand_p10"], "seconds": round(time.perf_counter() - start, 1)}


def _polished_copy(trainer: AffinityTrainer, epochs: int):
    import copy

    clone = copy.copy(trainer)
    clone.users_model = copy.deepcopy(trainer.users_model)
    clone.brands_model = copy.deepcopy(trainer.brands_model)
    clone.polish(epochs)
    return clone.model()


def run(quick: bool = True) -> list[dict]:
    """For `python -m benchmarks`: per variant, user P@10 vs plain WARP and brand P@10 vs transpose-only WARP.

    Values are taken at the variant's balanced iteration (one saved model serves both sides); the baselines
    at their own best iteration. ratio = value / baseline (targets: user ≥ 0.98, brand ≥ 1.0).
    """
    rows = experiment(quick, ["warp", "warp_transposed", "bidir_naive", "bidir_frozen_bias", "bidir_lr_t0.5"])
    by = {r["config"]: r for r in rows}
    user_base, brand_base = by["warp"]["best_user_p10"], by["warp_transposed"]["best_brand_p10"]
    out = []
    for r in rows[2:]:
        out.append({"name": f"{r['config']} user P@10", "value": r["balanced_user_p10"], "unit": "P@10",
                    "baseline_name": "plain WARP (best iteration)", "baseline_value": user_base,
                    "ratio": r["balanced_user_p10"] / user_base})
        out.append({"name": f"{r['config']} brand P@10", "value": r["balanced_brand_p10"], "unit": "P@10",
                    "baseline_name": "transpose-only WARP (best iteration)", "baseline_value": brand_base,
                    "ratio": r["balanced_brand_p10"] / brand_base})
    return out


def experiment(quick: bool = True, configs: list[str] | None = None, iterations: int | None = None,
               seed: int = 0) -> list[dict]:
    """Rows: one per variant with best user/brand P@10 and the balanced iteration; quick = 200k interactions."""
    n_users, n_brands, n_inter = (20_000, 400, 200_000) if quick else (100_000, 1_000, 1_000_000)
    frame, _ = planted_interactions(n_users, n_brands, n_inter, seed=seed, with_timestamps=False)
    split = split_interactions(frame, method="random", seed=seed)
    rows = []
    for name in configs or list(CONFIGS):
        result = run_config(split, CONFIGS[name], iterations or (8 if quick else 10))
        rows.append({"config": name, "interactions": int(split.train.nnz + split.test.nnz), **result})
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "curve"}), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--configs", default=None)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = experiment(args.quick, args.configs.split(",") if args.configs else None, args.iterations)
    print(f"{'config':22s} {'user P@10 best(it)':>20s} {'brand P@10 best(it)':>20s} {'balanced it: user / brand':>28s}")
    for r in rows:
        print(f"{r['config']:22s} {r['best_user_p10']:14.4f} ({r['best_user_iter']:2d}) {r['best_brand_p10']:14.4f} "
              f"({r['best_brand_iter']:2d})"
              f" {r['balanced_iter']:8d}: {r['balanced_user_p10']:.4f} / {r['balanced_brand_p10']:.4f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
