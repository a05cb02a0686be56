"""Mean and sd over seeds of every number in the nested results of one evaluation run per seed."""

from __future__ import annotations

import math
import statistics
from typing import Any, Mapping, Sequence


def over_seeds(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """{"mean": nest, "sd": nest, "values": nest}: the runs' common nest of dicts with each number replaced by its
    mean, its sample sd (0 for one run) and the list of per-run values. NaN and None (an empty bucket) are left out
    of a figure; a figure no run has is None. Other leaves (names, lists) come from the first run."""
    if not runs:
        raise ValueError("no runs to summarise")
    return {part: _walk(runs, part) for part in ("mean", "sd", "values")}


def _walk(runs: Sequence[Any], part: str) -> Any:
    first = runs[0]
    if isinstance(first, Mapping):
        return {k: _walk([r.get(k) if isinstance(r, Mapping) else None for r in runs], part) for k in first}
    if isinstance(first, bool) or not isinstance(first, (int, float)) and first is not None:
        return first
    values = [float(v) for v in runs if isinstance(v, (int, float)) and not isinstance(v, bool)
              and not math.isnan(float(v))]
    if part == "values":
        return values
    if not values:
        return None
    if part == "mean":
        return statistics.fmean(values)
    return statistics.stdev(values) if len(values) > 1 else 0.0


def seed_list(text: str) -> list[int]:
    """"1,2,3" -> [1, 2, 3]; ValueError says what is wrong."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--seeds takes whole numbers separated by commas, e.g. 1,2,3; got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds needs at least one seed and no repeats, e.g. 1,2,3; got {text!r}")
    return seeds
