"""Affinity training speed: WARP epochs and the hand-over, validation's share of a fit and a fit's peak memory."""

# Run: nice -n 10 .venv/bin/python -m benchmarks affinity_training [--quick]
#  or one fit alone: nice -n 10 .venv/bin/python -m benchmarks.affinity_training --fit large [--params JSON]
# Ratios are taken in the same run (the machine is shared; wall seconds vary up to 10x with load: compare
# cpu_ratio, the CPU time of both threads, when the machine is busy). The full size fits the large demo
# (ATELIER_LARGE_DEMO, default data/workspaces/demo-large, else /work/demo-large) or, without one, planted
# interactions of the same size; each fit runs in its own process so that its peak RSS is its own.

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.features.interactions import planted_interactions, user_brand_matrix
from core.features.splits import split_interactions
from core.models.affinity import AffinityData, AffinityModel, AffinityParams
from core.models.affinity.evaluate import ValidationSet, affinity_scorer, evaluate_both
from core.models.affinity.train import AffinityTrainer, hand_over

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 3 * 1024  # issue 17: peak memory of training at 1M customers
SHARE_LIMIT = 0.2  # issue 17: validation ≤ 20% of training time
LARGE = (1_000_000, 3_000, 5_000_000)
# Above the 50M user–brand cells where the curve stops carrying AUC (a per-row sort, train._AUC_CELLS), as at 1M:
# below it every evaluation also sorts each sampled row, a different regime (docs/affinity.md).
QUICK = (50_000, 1_200, 250_000)


def _median_time(fn, repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus))


def epoch_rows(quick: bool, repeats: int = 3) -> list[dict]:
    """Rows: users×brands epoch, brands×users epoch, hand-over both ways, bi-directional iteration, and ratios."""
    n_users, n_brands, n_inter = (20_000, 400, 200_000) if quick else (100_000, 1_000, 1_000_000)
    frame, _ = planted_interactions(n_users, n_brands, n_inter, seed=0, with_timestamps=False)
    m = user_brand_matrix(frame)
    params = AffinityParams(n_factors=64, direction="bidirectional", num_threads=2)
    trainer = AffinityTrainer(m.matrix, m.user_ids, m.column_ids, params)
    trainer.iterate()  # warm-up: first-call overheads out of the timings

    def both_hand_overs() -> None:
        hand_over(trainer.users_model, trainer.brands_model)
        hand_over(trainer.brands_model, trainer.users_model)

    users_epoch, users_cpu = _median_time(lambda: trainer.epoch("users"), repeats)
    brands_epoch, brands_cpu = _median_time(lambda: trainer.epoch("brands"), repeats)
    handover, handover_cpu = _median_time(both_hand_overs, repeats)
    iteration, iteration_cpu = _median_time(trainer.iterate, repeats)
    base = {"interactions": int(m.matrix.nnz), "users": n_users, "brands": n_brands, "factors": 64, "unit": "s",
            "baseline_name": "plain WARP epoch (× = value ÷ baseline)", "baseline_value": users_epoch}
    size = f"{m.matrix.nnz / 1e3:.0f}k"
    return [
        {**base, "name": f"affinity plain WARP epoch {size}", "value": users_epoch, "cpu_seconds": users_cpu,
         "ratio": 1.0, "cpu_ratio": 1.0},
        {**base, "name": f"affinity transposed epoch {size}", "value": brands_epoch, "cpu_seconds": brands_cpu,
         "ratio": brands_epoch / users_epoch, "cpu_ratio": brands_cpu / users_cpu},
        {**base, "name": f"affinity hand-over both ways {size}", "value": handover, "cpu_seconds": handover_cpu,
         "ratio": handover / users_epoch, "cpu_ratio": handover_cpu / users_cpu},
        {**base, "name": f"affinity bi-directional iteration {size}", "value": iteration, "cpu_seconds": iteration_cpu,
         "ratio": iteration / users_epoch, "cpu_ratio": iteration_cpu / users_cpu},
    ]


def sampled_validation_rows(quick: bool) -> list[dict]:
    """One validation of the same model: the seeded sample (default params) against ranking every held-out query."""
    n_users, n_brands, n_inter = QUICK if quick else (300_000, 3_000, 1_500_000)
    frame, _ = planted_interactions(n_users, n_brands, n_inter, seed=0)
    split = split_interactions(frame, seed=42)
    params = AffinityParams(iterations=1)
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, params)
    trainer.iterate()
    scorer = affinity_scorer(trainer.model())
    sample = ValidationSet.of(split, params.validation_users, params.validation_brands, params.seed)
    everything = ValidationSet.of(split)
    sampled_s, sampled_cpu = _median_time(lambda: evaluate_both(scorer, sample, with_auc=False), 1)
    full_s, full_cpu = _median_time(lambda: evaluate_both(scorer, everything, with_auc=False), 1)
    return [{"name": f"affinity one validation, {len(sample.users):,} users + {len(sample.brands):,} brands sampled "
                     f"({n_users // 1000}k customers)",
             "value": sampled_s, "unit": "s", "cpu_seconds": sampled_cpu,
             "baseline_name": f"every held-out query ({len(everything.users):,} users + {len(everything.brands):,} "
                              "brands)", "baseline_value": full_s, "ratio": sampled_s / full_s,
             "cpu_ratio": sampled_cpu / max(full_cpu, 1e-9)}]


def large_demo() -> Path | None:
    """The large demo's interactions file, where one was generated."""
    candidates = [os.environ.get("ATELIER_LARGE_DEMO"), ROOT / "data" / "workspaces" / "demo-large", "/work/demo-large"]
    for folder in candidates:
        if folder and (Path(folder) / "interactions.parquet").exists():
            return Path(folder) / "interactions.parquet"
    return None


def fit_once(source: str, size: tuple[int, int, int], params: dict | None = None, echo: bool = False) -> dict:
    """Load interactions (a parquet file, or "planted" of `size`) and fit; timings (TrainingSummary.timings),
    seconds and this process's peak RSS. echo prints each progress message with wall/CPU seconds and peak RSS."""
    start, cpu = time.perf_counter(), time.process_time()

    class Echo:
        def update(self, fraction: float, message: str = "", metrics: dict | None = None) -> None:
            print(f"{time.perf_counter() - start:8.1f}s wall {time.process_time() - cpu:8.1f}s cpu "
                  f"{_peak_mb():6.0f} MB  {message}", file=sys.stderr, flush=True)

    frame = pd.read_parquet(source) if source != "planted" else planted_interactions(*size, seed=0)[0]
    loaded = time.perf_counter() - start
    model = AffinityModel.train(AffinityData(frame), AffinityParams.from_dict(params or {}), Echo() if echo else None)
    return {"load_seconds": loaded, "fit_seconds": time.perf_counter() - start - loaded,
            "cpu_seconds": time.process_time() - cpu, "timings": model.training.timings,
            "iterations": model.params.iterations, "evaluations": len(model.training.curve),
            "metrics": model.training.metrics, "peak_mb": _peak_mb(), "users": int(frame["user_id"].nunique())}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_in_child(source: str, size: tuple[int, int, int], params: dict | None = None) -> dict:
    """`fit_once` in a new process, so that the peak RSS is the fit's own."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.affinity_training", "--fit", source,
                          "--size", json.dumps(list(size)), "--params", json.dumps(params or {})],
                         cwd=ROOT, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit_rows(quick: bool) -> list[dict]:
    """Validation's share of a whole fit (target ≤ 0.2) and the fit's peak RSS (target ≤ 3 GB)."""
    demo = None if quick else large_demo()
    source, size = (str(demo), LARGE) if demo is not None else ("planted", QUICK if quick else LARGE)
    r = fit_in_child(source, size)
    timings, fit_s = r["timings"], r["fit_seconds"]
    label = f"{r['users'] / 1e6:.2f}M customers, {'large demo' if demo else 'planted'}"
    common = {"users": r["users"], "fit_seconds": round(fit_s, 1), "timings": timings,
              "iterations": r["iterations"], "evaluations": r["evaluations"], "cpu_seconds": r["cpu_seconds"]}
    share = timings.get("validation", 0.0) / fit_s
    return [
        {**common, "name": f"affinity validation share of training ({label})", "value": share, "unit": "×",
         "baseline_name": "the whole fit (validation s ÷ fit s)", "baseline_value": 1.0, "ratio": share,
         "limit": SHARE_LIMIT},
        {**common, "name": f"affinity training peak RSS ({label})", "value": r["peak_mb"], "unit": "MB",
         "baseline_name": "target 3 GB", "baseline_value": TARGET_MB, "ratio": r["peak_mb"] / TARGET_MB,
         "limit": 1.0},
    ]


def run(quick: bool = True, repeats: int = 3) -> list[dict]:
    return epoch_rows(quick, repeats) + sampled_validation_rows(quick) + fit_rows(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fit", metavar="SOURCE", help="only fit once: a parquet file of interactions, 'planted' "
                        "or 'large' (the large demo); progress on stderr, the figures as JSON on stdout")
    parser.add_argument("--size", default=json.dumps(list(LARGE)), help="planted size, JSON [users, brands, rows]")
    parser.add_argument("--params", default="{}", help="AffinityParams overrides, JSON")
    args = parser.parse_args()
    if args.fit:
        source = str(large_demo()) if args.fit == "large" else args.fit
        print(json.dumps(fit_once(source, tuple(json.loads(args.size)), json.loads(args.params),
                                  echo=True)))
        return
    for row in run(args.quick):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
