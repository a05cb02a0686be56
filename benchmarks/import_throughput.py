"""Import throughput: validating read of an interactions CSV (rows/s) against a plain `pandas.read_csv` of the same
file."""

# Run: nice -n 10 .venv/bin/python -m benchmarks.import_throughput [--quick] [--json]
# The file is generated (seeded) with ids that have leading zeros, so the plain read also shows what it loses.
# Both reads run in the same process, one after the other: compare the ratio, not absolute times.

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.columns import EVENTS
from core.data.readers import read_table


def write_interactions_csv(path: Path, n_rows: int, seed: int = 0, chunk: int = 1_000_000) -> int:
    """A realistic interactions CSV: user_id, item_id (zero-padded), brand_id, event, timestamp (ISO 8601, UTC)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("user_id,item_id,brand_id,event,timestamp\n")
        for lo in range(0, n_rows, chunk):
            n = min(chunk, n_rows - lo)
            users = pd.Series(rng.integers(0, 1_000_000, n)).map("u{:07d}".format)
            items = pd.Series(rng.zipf(1.3, n) % 100_000).map("{:08d}".format)
            brands = pd.Series(rng.integers(0, 3_000, n)).map("b{:04d}".format)
            events = pd.Series(np.asarray(EVENTS, dtype=object)[rng.choice(5, n, p=[0.6, 0.2, 0.08, 0.07, 0.05])])
            stamps = pd.Series((start + rng.integers(0, 180 * 86_400, n).astype("timedelta64[s]")).astype(str)) + "Z"
            lines = users + "," + items + "," + brands + "," + events + "," + stamps
            f.write("\n".join(lines.tolist()))
            f.write("\n")
    return n_rows


def _time(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def run(quick: bool = True) -> list[dict]:
    """Rows: validating read vs plain read_csv, and vs the exact-text read_csv (dtype=str) it builds on."""
    n_rows = 1_000_000 if quick else 5_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.csv"
        write_interactions_csv(path, n_rows)
        size_mb = path.stat().st_size / 2**20
        plain, plain_cpu, plain_frame = _time(lambda: pd.read_csv(path))
        lost = int((~plain_frame["item_id"].astype(str).str.len().eq(8)).sum())  # ids whose zeros were dropped
        del plain_frame
        text, text_cpu, _ = _time(lambda: pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False))
        ours, ours_cpu, frame = _time(lambda: read_table(path, "interactions"))
        exact = bool(frame["item_id"].str.len().eq(8).all())
        del frame
    size = f"{n_rows:,} rows, {size_mb:.0f} MiB CSV"
    return [
        {"name": "import.interactions_validated_vs_read_csv", "metric": "rows_per_s", "value": n_rows / ours,
         "baseline": n_rows / plain, "ratio": plain / ours, "unit": "rows/s", "cpu_ratio": plain_cpu / ours_cpu,
         "baseline_name": "plain pandas.read_csv (types guessed, ids mangled)", "baseline_value": n_rows / plain,
         "note": f"{size}; read_table (UTF-8 check, csv field counts, str read, every rule) {ours:.1f} s "
                 f"(CPU {ours_cpu:.1f} s) vs plain pandas.read_csv {plain:.1f} s (CPU {plain_cpu:.1f} s); "
                 f"ratio < 1 = slower. Plain read mangled {lost:,} zero-padded item ids; ours kept all: {exact}"},
        {"name": "import.interactions_validated_vs_exact_text_read", "metric": "rows_per_s", "value": n_rows / ours,
         "baseline": n_rows / text, "ratio": text / ours, "unit": "rows/s", "cpu_ratio": text_cpu / ours_cpu,
         "baseline_name": "pandas.read_csv(dtype=str, keep_default_na=False), no checks",
         "baseline_value": n_rows / text,
         "note": f"{size}; baseline read_csv(dtype=str, keep_default_na=False) {text:.1f} s (CPU {text_cpu:.1f} s): "
                 "the exact-text read a careful person would write by hand, without any of the checks"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows instead of 5M")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(quick=args.quick)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['name']}: {row['value']:,.0f} {row['unit']} vs {row['baseline']:,.0f} "
              f"(ratio {row['ratio']:.2f}, by CPU time {row['cpu_ratio']:.2f})\n  {row['note']}")


if __name__ == "__main__":
    main()
