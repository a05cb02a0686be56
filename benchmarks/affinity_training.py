"""Affinity training speed: a plain WARP epoch vs a bi-directional iteration (and the hand-over) on planted data."""

# Run: nice -n 10 .venv/bin/python -m benchmarks.affinity_training [--quick]
# Ratios are taken in the same run (the machine is shared; wall seconds vary up to 10x with load: compare
# cpu_ratio, the CPU time of both threads, when the machine is busy).

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from core.features.interactions import planted_interactions, user_brand_matrix
from core.models.affinity import AffinityParams
from core.models.affinity.train import AffinityTrainer, hand_over


def _median_time(fn, repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus))


def run(quick: bool = True, repeats: int = 3) -> list[dict]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
