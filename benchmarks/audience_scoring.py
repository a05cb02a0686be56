"""Audience scoring at scale: one brand's audience vs naive pandas/NumPy and the memory-bandwidth bound; top-10 brands
for all."""

# Run: nice -n 10 .venv/bin/python -m benchmarks.audience_scoring [--quick] [--json]
# Random float32 factors stand in for a trained model (speed does not depend on the values). Every ratio is
# taken in the same run: the machine is shared, and absolute times move with co-tenant load.

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from core.data.idmap import IdMap
from core.models.affinity import AffinityModel
from core.services.audience import AudienceData, AudienceSpec, Exclusions, build_audience, top_k

AUDIENCE = 50_000  # top-N asked for (a typical campaign)


def _median(fn, repeats: int) -> tuple[float, float]:
    """(median wall s, median CPU s) over `repeats` calls after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus))


def random_model(n_users: int, n_brands: int, d: int = 64, seed: int = 0) -> AffinityModel:
    rng = np.random.default_rng(seed)
    return AffinityModel(
        IdMap(np.array([f"u{i:07d}" for i in range(n_users)], dtype=object)),
        IdMap(np.array([f"b{i:04d}" for i in range(n_brands)], dtype=object)),
        rng.standard_normal((n_users, d), dtype=np.float32) * 0.1,
        rng.standard_normal((n_brands, d), dtype=np.float32) * 0.1,
        rng.standard_normal(n_users, dtype=np.float32) * 0.05,
        rng.standard_normal(n_brands, dtype=np.float32) * 0.05)


def copy_bandwidth(array: np.ndarray, repeats: int = 5) -> float:
    """Bytes per second of `np.copyto` of an array as large as the user factors (read + write stream)."""
    dst = np.empty_like(array)
    wall, _ = _median(lambda: np.copyto(dst, array), repeats)
    return array.nbytes / wall


def naive_pandas(model: AffinityModel, brand: int, n: int) -> pd.DataFrame:
    """What a notebook does: a DataFrame of every user's score, fully sorted, head(N)."""
    scores = model.user_factors @ model.brand_factors[brand] + model.user_bias + model.brand_bias[brand]
    frame = pd.DataFrame({"user_id": model.user_ids.external, "score": scores})
    return frame.sort_values("score", ascending=False).head(n)


def naive_numpy(model: AffinityModel, brand: int, n: int) -> np.ndarray:
    """Full argsort of all scores (fresh temporaries for every term)."""
    scores = model.user_factors @ model.brand_factors[brand] + model.user_bias + model.brand_bias[brand]
    return np.argsort(-scores)[:n]


def naive_top_brands(model: AffinityModel, k: int, users: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Per chunk: a fresh score matrix with fresh bias temporaries, a full argsort of every row."""
    out = []
    for start in range(0, len(users), chunk):
        rows = users[start:start + chunk]
        scores = (model.user_factors[rows] @ model.brand_factors.T + model.brand_bias[None, :]
                  + model.user_bias[rows, None])
        out.append(np.argsort(-scores, axis=1)[:, :k])
    return np.concatenate(out)


def run(quick: bool = True, repeats: int = 5) -> list[dict]:
    """Rows: one brand (core path, whole service, naive pandas, naive NumPy, bandwidth bound), a 3-brand blend,
    and top-10 brands for every user (chunked, reused buffers) vs naive (timed on a sample, scaled)."""
    n_users, n_brands = (200_000, 3_000) if quick else (1_000_000, 3_000)
    model = random_model(n_users, n_brands)
    data = AudienceData(np.zeros(n_users, bool), np.ones(n_users, np.int64),
                        pd.DataFrame({"user_idx": [], "brand_id": [], "timestamp": []}), None)
    data.suppressed[::97] = True  # ~1% suppressed: the exclusion path runs
    brand = 7
    bw = copy_bandwidth(model.user_factors)
    bound = model.user_factors.nbytes / bw

    core, core_cpu = _median(lambda: top_k(model.scores_for_brand(brand), AUDIENCE), repeats)
    spec = AudienceSpec(["b0007"], value=AUDIENCE, control_percent=10, exclusions=Exclusions(suppressed=True))
    service, service_cpu = _median(lambda: build_audience(model, spec, data), repeats)
    blend = AudienceSpec(["b0007", "b0100", "b2000"], blend="any", value=AUDIENCE,
                         exclusions=Exclusions(suppressed=True))
    blended, blended_cpu = _median(lambda: build_audience(model, blend, data), repeats)
    pandas_t, pandas_cpu = _median(lambda: naive_pandas(model, brand, AUDIENCE), max(1, repeats // 2))
    numpy_t, _ = _median(lambda: naive_numpy(model, brand, AUDIENCE), max(1, repeats // 2))
    same = set(top_k(model.scores_for_brand(brand), AUDIENCE)) == set(naive_numpy(model, brand, AUDIENCE))

    all_users = np.arange(n_users)
    top10, top10_cpu = _median(lambda: model.top_brands_for_users(10), 1)
    sample = all_users[: 50_000 if quick else 100_000]
    naive10_sample, _ = _median(lambda: naive_top_brands(model, 10, sample), 1)
    naive10 = naive10_sample * n_users / len(sample)
    agree = np.mean(np.sort(model.top_brands_for_users(10, sample[:2000])[0], axis=1)
                    == np.sort(naive_top_brands(model, 10, sample[:2000]), axis=1))
    size = f"{n_users:,} users × {n_brands:,} brands × 64 factors"
    return [
        {"name": "audience.one_brand_core", "metric": "latency_ms", "value": core * 1e3, "baseline": pandas_t * 1e3,
         "ratio": pandas_t / core, "unit": "ms",
         "note": f"{size}; U@v + argpartition top-{AUDIENCE:,} (exact, same set as a full sort: {same}); CPU "
                 f"{core_cpu * 1e3:.0f} ms"},
        {"name": "audience.one_brand_vs_bandwidth_bound", "metric": "latency_ms", "value": core * 1e3,
         "baseline": bound * 1e3, "ratio": core / bound, "unit": "ms",
         "note": f"bound = {model.user_factors.nbytes / 2**20:.0f} MiB of user factors ÷ measured copy bandwidth "
                 f"{bw / 2**30:.1f} GiB/s (ratio = how many times the bound)"},
        {"name": "audience.one_brand_naive_numpy", "metric": "latency_ms", "value": core * 1e3,
         "baseline": numpy_t * 1e3,
         "ratio": numpy_t / core, "unit": "ms", "note": "naive: fresh temporaries + full argsort of all users"},
        {"name": "audience.one_brand_service", "metric": "latency_ms", "value": service * 1e3,
         "baseline": pandas_t * 1e3, "ratio": pandas_t / service, "unit": "ms",
         "note": "build_audience end to end: scores, suppression, cut, ids, 10% control group, histogram + size curve; "
                 f"CPU {service_cpu * 1e3:.0f} ms (naive pandas CPU {pandas_cpu * 1e3:.0f} ms)"},
        {"name": "audience.three_brand_blend_service", "metric": "latency_ms", "value": blended * 1e3,
         "baseline": pandas_t * 1e3, "ratio": pandas_t / blended, "unit": "ms",
         "note": f"any-of 3 brands (standardised per brand), end to end; CPU {blended_cpu * 1e3:.0f} ms"},
        {"name": "audience.top10_brands_all_users", "metric": "seconds", "value": top10, "baseline": naive10,
         "ratio": naive10 / top10, "unit": "s",
         "note": f"chunks of 4,096 users, one reused score buffer, argpartition (CPU {top10_cpu:.1f} s); naive: fresh "
                 f"arrays + full argsort per row, timed on {len(sample):,} users and scaled; top-10 agreement "
                 f"{agree:.4f}"},
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(quick=args.quick)
    for row in rows:
        print(json.dumps(row) if args.json else
              f"{row['name']:<40} {row['value']:>10.2f} {row['unit']:<3} baseline {row['baseline']:>10.2f}  "
              f"x{row['ratio']:.2f}  {row['note']}")
