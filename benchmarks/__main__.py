"""Benchmark runner: `python -m benchmarks [name ...] [--quick] [--json FILE]` runs benchmarks/*.py and prints a
table."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Module names of benchmarks/*.py that define `run(quick)`, in file order."""
    names = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        if "\ndef run(" in source:
            names.append(path.stem)
    return names


def normalise(row: dict) -> dict:
    """Accept both row styles: (baseline_name, baseline_value) or (baseline, note); a target row also gives
    `ratio` (its cost ÷ the baseline's cost: time, bytes or memory, so lower is better) and `limit` (the largest
    ratio the target allows) and gets `met`."""
    baseline_value = row.get("baseline_value", row.get("baseline"))
    baseline_name = row.get("baseline_name") or row.get("note") or ""
    ratio = row.get("ratio")
    if ratio is None and isinstance(baseline_value, (int, float)) and isinstance(row.get("value"), (int, float)) \
            and row["value"]:
        ratio = baseline_value / row["value"]
    return {"name": str(row.get("name") or row.get("config") or "?"), "value": row.get("value"),
            "unit": row.get("unit") or row.get("metric") or "", "baseline_name": str(baseline_name),
            "baseline_value": baseline_value, "ratio": ratio, "limit": row.get("limit"),
            "met": _met(ratio, row.get("limit"))}


def _met(ratio: object, limit: object) -> bool | None:
    if not isinstance(limit, (int, float)) or not isinstance(ratio, (int, float)):
        return None
    return ratio <= limit


def run_module(name: str, quick: bool) -> tuple[list[dict], float, str | None]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        run = module.run
        rows = run(quick=quick) if "quick" in inspect.signature(run).parameters else run()
        return [normalise(r) for r in rows or []], time.perf_counter() - started, None
    except Exception:  # noqa: BLE001 — one broken benchmark must not hide the others' figures
        return [], time.perf_counter() - started, traceback.format_exc(limit=5)


def render(rows: list[dict]) -> str:
    def number(value) -> str:
        if isinstance(value, (int, float)):
            return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return "" if value is None else str(value)

    header = (f"{'benchmark':<46} {'value':>12} {'unit':<10} {'baseline':>12} {'ratio':>7} {'limit':>7} {'':<4}"
              f"  baseline is")
    lines = [header, "-" * len(header)]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if isinstance(r["ratio"], (int, float)) else ""
        limit = f"≤{r['limit']:.2f}×" if isinstance(r.get("limit"), (int, float)) else ""
        met = {True: "ok", False: "MISS", None: ""}[r.get("met")]
        lines.append(f"{r['name'][:46]:<46} {number(r['value']):>12} {r['unit'][:10]:<10} "
                     f"{number(r['baseline_value']):>12} {ratio:>7} {limit:>7} {met:<4}  {r['baseline_name'][:90]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(discover())}")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke run)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    available = discover()
    unknown = [n for n in args.names if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(available)}")
    all_rows, failed = [], []
    for name in args.names or available:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        rows, seconds, error = run_module(name, args.quick)
        print(f"== {name}: {len(rows)} figure(s) in {seconds:.1f} s", file=sys.stderr, flush=True)
        if error:
            failed.append(name)
            print(error, file=sys.stderr)
        all_rows += [{**r, "module": name} for r in rows]
    print(render(all_rows))
    if args.json:
        args.json.write_text(json.dumps(all_rows, indent=2, default=str), encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
