"""Import throughput and memory: validating read of an interactions CSV against a plain `pandas.read_csv` of it."""

# Run: nice -n 10 .venv/bin/python -m benchmarks import_throughput [--quick]
#      (or python -m benchmarks.import_throughput [--quick] [--json] for the rows alone)
# The file is generated (seeded) with ids that have leading zeros, so the plain read also shows what it loses.
# Every read runs in a fresh subprocess (time, CPU time and the peak RSS it added), the three kinds interleaved
# and repeated: the medians are compared, so a burst of load from other work hits all of them alike.

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.columns import EVENTS
from core.config import REPO_ROOT

TIME_LIMIT = 2.0  # issue 17: validation at >= 0.5x read_csv's throughput
MEMORY_LIMIT = 1.3  # issue 17: at most 1.3x read_csv's peak memory
READS = ("plain", "text", "validated")


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


def measure(kind: str, path: Path) -> dict:
    """One read in this process: wall and CPU seconds, and the peak RSS it added (MB); what the result kept."""
    from core.data.readers import read_table  # imported before the clock and the memory baseline start

    readers = {
        "plain": lambda: pd.read_csv(path),
        "text": lambda: pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False),
        "validated": lambda: read_table(path, "interactions"),
    }
    before = _memory_kib("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    frame = readers[kind]()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = (_memory_kib("VmHWM") - before) / 1024
    exact = int(frame["item_id"].astype(str).str.len().eq(8).sum())  # zero-padded ids that kept their zeros
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "rows": len(frame), "exact_item_ids": exact}


def _memory_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process in KiB. Not getrusage's ru_maxrss: Linux carries that across
    exec, so a child of the runner (which wrote the 255 MB file) started with the runner's peak as its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def _in_subprocess(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.import_throughput", "--measure", kind, str(path)],
                         cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = True) -> list[dict]:
    """Target rows: validated read's time and peak memory as ratios to plain read_csv's; the exact-text read too."""
    n_rows = 1_000_000 if quick else 5_000_000
    repeats = 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.csv"
        write_interactions_csv(path, n_rows)
        size_mb = path.stat().st_size / 2**20
        runs: dict[str, list[dict]] = {kind: [] for kind in READS}
        for _ in range(repeats):
            for kind in READS:
                runs[kind].append(_in_subprocess(kind, path))
    med = {kind: {key: statistics.median(r[key] for r in rs) for key in ("wall", "cpu", "peak_mb")}
           for kind, rs in runs.items()}
    ours, plain, text = med["validated"], med["plain"], med["text"]
    lost = n_rows - runs["plain"][0]["exact_item_ids"]
    kept = runs["validated"][0]["exact_item_ids"] == n_rows
    size = f"{n_rows:,} rows, {size_mb:.0f} MiB CSV, median of {repeats} fresh processes"
    return [
        {"name": "import.validated_time_vs_read_csv", "value": ours["wall"], "unit": "s",
         "baseline_name": "plain pandas.read_csv of the same file (types guessed, ids mangled)",
         "baseline_value": plain["wall"], "ratio": ours["wall"] / plain["wall"], "limit": TIME_LIMIT,
         "cpu_ratio": ours["cpu"] / plain["cpu"],
         "note": f"{size}; read_table (UTF-8, quotes, field counts, every rule) {n_rows / ours['wall']:,.0f} rows/s "
                 f"(CPU {ours['cpu']:.2f} s) vs read_csv {n_rows / plain['wall']:,.0f} rows/s "
                 f"(CPU {plain['cpu']:.2f} s). read_csv mangled {lost:,} zero-padded item ids; ours kept all: {kept}"},
        {"name": "import.validated_peak_memory_vs_read_csv", "value": ours["peak_mb"], "unit": "MB",
         "baseline_name": "peak RSS added by plain pandas.read_csv of the same file",
         "baseline_value": plain["peak_mb"], "ratio": ours["peak_mb"] / plain["peak_mb"], "limit": MEMORY_LIMIT,
         "note": size},
        {"name": "import.validated_time_vs_exact_text_read", "value": ours["wall"], "unit": "s",
         "baseline_name": "pandas.read_csv(dtype=str, keep_default_na=False): exact text, no checks",
         "baseline_value": text["wall"], "ratio": ours["wall"] / text["wall"],
         "cpu_ratio": ours["cpu"] / text["cpu"], "note": size},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows instead of 5M")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=f"one read ({', '.join(READS)})")
    args = parser.parse_args()
    if args.measure:
        kind, path = args.measure
        print(json.dumps(measure(kind, Path(path))))
        return
    rows = run(quick=args.quick)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['name']}: {row['value']:,.3g} {row['unit']} vs {row['baseline_value']:,.3g} "
              f"(ratio {row['ratio']:.2f}, limit {row.get('limit', '-')})\n  {row['note']}")


if __name__ == "__main__":
    main()
