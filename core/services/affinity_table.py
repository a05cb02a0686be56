"""Full user×brand affinity table: top brands per user and top users per brand, scored in user partitions, as
Parquet."""

# Layout: <workspace>/affinity_table/<model version>/
#   user_top_brands/part-00000.parquet ...  user_id, rank, brand_id, score   (one file per user partition)
#   brand_top_users.parquet                 brand_id, rank, user_id, score
#   manifest.json                           model version, k, sizes, partitions, sha256 of every file
# Each partition is scored where fan_out runs it (a Dask worker or this process) and writes its own part; the
# brand side is merged here from each partition's candidates. The folder appears only when complete.

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from threadpoolctl import threadpool_limits

from core.artifacts import file_sha256
from core.data.workspace import Workspace
from core.errors import AtelierError
from core.models.affinity import AffinityModel
from core.jobs.cluster import fan_out, in_worker, scheduler_address
from core.services import models as versions
from core.services.affinity_training import load_model
from core.services import jobs, topk

KIND = "affinity_table"
FOLDER = "affinity_table"
DEFAULTS: dict[str, Any] = {"k_brands": 10, "k_users": 1000, "partition_users": 50_000, "local_threads": None,
                            "version": None, "by": "local"}
# Users scored per matmul inside a partition, into one reused (1024, n_brands) buffer: 12 MB at 3k brands stays
# in cache for the passes over it (bias, thresholds, masks): ≈ 1.4× less CPU per partition than 4096 rows. With one
# BLAS thread each u·b is summed in the same order whatever the row block (scores checked identical for blocks of
# 256 to 4096 rows), so the table's scores are those of the 4096-row blocks before.
_CHUNK = 1024


@dataclass(frozen=True)
class TableSummary:
    """What a scoring run wrote: where, for which model version, how big, and how fast."""

    path: str
    version: str
    n_users: int
    n_brands: int
    k_brands: int
    k_users: int
    partitions: int
    runner: str
    seconds: float
    users_per_s: float


def table_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Job params with defaults; raises AtelierError naming each bad one."""
    merged = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if k in DEFAULTS}}

    def whole(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1

    bad = [f"{name} must be a whole number ≥ 1 (got {merged[name]!r})"
           for name in ("k_brands", "k_users", "partition_users", "local_threads")
           if not whole(merged[name]) and not (name == "local_threads" and merged[name] is None)]
    if bad:
        raise AtelierError(f"affinity table: {'; '.join(bad)}; nothing was scored")
    return merged


def partitions(n_users: int, partition_users: int) -> list[tuple[int, int]]:
    """[start, stop) user ranges of at most `partition_users` users, covering 0..n_users."""
    return [(s, min(s + partition_users, n_users)) for s in range(0, n_users, partition_users)]


def score_partition(part: int, offset: int, user_ids: np.ndarray, user_factors: np.ndarray, user_bias: np.ndarray,
                    side_user_factors: np.ndarray | None = None, *, staging: str, brand_ids: np.ndarray,
                    brand_factors: np.ndarray, brand_bias: np.ndarray, side_brand_factors: np.ndarray | None = None,
                    k_brands: int, k_users: int) -> dict[str, Any]:
    """Score one user partition against every brand; write its top-k brands per user; return brand candidates.

    user_factors float32 (m, d), user_bias (m,), brand_factors (n_brands, d), brand_bias (n_brands,).
    `offset` is the partition's first global user index. Scores are the model's: u·b + user_bias + brand_bias.
    side_user_factors (m, d2) and side_brand_factors (n_brands, d2), when the model's brand side is not its own
    scores (`AffinityModel.brand_side`), rank the brand candidates instead: their product.
    Returns {"file", "sha256", "rows", "cand_keys" uint64 (n_brands, c)}, c = min(k_users, m): per brand the
    partition's best users as `topk.keys` of (score, global user index), best first.
    """
    if in_worker():
        threadpool_limits(1, user_api="blas")  # as Dask's nanny sets it; scores must not depend on BLAS threads
    m, n_brands = len(user_ids), len(brand_ids)
    kb, ku = min(k_brands, n_brands), min(k_users, m)
    chunks = [(start, min(start + _CHUNK, m)) for start in range(0, m, _CHUNK)]
    brand_t = np.ascontiguousarray(brand_factors.T)
    buffer = np.empty((min(_CHUNK, max(m, 1)), n_brands), dtype=np.float32)
    separate = side_user_factors is not None and side_brand_factors is not None
    side_t = np.ascontiguousarray(side_brand_factors.T) if separate else None
    side_buffer = np.empty_like(buffer) if separate else buffer

    # The biases ride in the product as two more columns, [u, user_bias, 1] · [b, 1, brand_bias]: two passes
    # over every (chunk × brands) block fewer than adding them afterwards.
    d = user_factors.shape[1]
    brand_t = np.ascontiguousarray(np.vstack([brand_t, np.ones((1, n_brands), np.float32), brand_bias[None, :]]))
    block = np.ones((min(_CHUNK, max(m, 1)), d + 2), dtype=np.float32)

    def score(a: int, b: int) -> np.ndarray:
        # the same products on the same (≤ _CHUNK, n_brands) shape every time: bit-identical when scored again
        rows = block[: b - a]
        rows[:, :d], rows[:, d] = user_factors[a:b], user_bias[a:b]
        scores = buffer[: b - a]
        np.matmul(rows, brand_t, out=scores)
        return scores

    def brand_side(a: int, b: int, scores: np.ndarray | None = None) -> np.ndarray:
        """The scores that rank a brand's customers: the user side's own, or the brand side's product."""
        if not separate:
            return score(a, b) if scores is None else scores
        out = side_buffer[: b - a]
        np.matmul(side_user_factors[a:b], side_t, out=out)
        return out

    # Pass 1: each user's top brands, and per brand the maxima of runs of g users. The ku-th best of those
    # maxima bounds the partition's ku-th best user of the brand from below, so pass 2 keeps only ≈ 1.15·ku.
    top_idx = np.empty((m, kb), dtype=np.int32)
    top_scores = np.empty((m, kb), dtype=np.float32)
    g = topk.group_size(m, ku)
    group_max = np.empty((n_brands, sum(-(-(b - a) // g) for a, b in chunks)), dtype=np.float32)
    filled = 0
    for a, b in chunks:
        scores = score(a, b)
        top_idx[a:b], top_scores[a:b] = topk.top_k_rows(scores, kb)
        maxima = topk.row_group_max(brand_side(a, b, scores), g)
        group_max[:, filled:filled + len(maxima)] = maxima.T
        filled += len(maxima)
    cut = group_max.shape[1] - ku
    # contiguous: comparing a block against a strided row of thresholds is ~10× slower
    threshold = np.ascontiguousarray(np.partition(group_max, cut, axis=1)[:, cut])
    del group_max
    # Pass 2, last chunk first: its scores are still in the buffer.
    cand_keys, cand_brands = [], []
    for a, b in reversed(chunks):
        scores = (side_buffer if separate else buffer)[: b - a] if b == m else brand_side(a, b)
        flat = np.flatnonzero(scores >= threshold)
        users = flat // n_brands
        cand_keys.append(topk.keys(scores.ravel()[flat], users + (offset + a)))
        cand_brands.append(flat - users * n_brands)
    best = topk.best_per_group(np.concatenate(cand_keys), np.concatenate(cand_brands), n_brands, ku)
    path = Path(staging) / "user_top_brands" / f"part-{part:05d}.parquet"
    rows = _write_atomic(_user_side_table(user_ids, brand_ids, top_idx, top_scores), path)
    return {"file": path.name, "sha256": file_sha256(path), "rows": rows, "cand_keys": best}


def score_table(ws: Workspace, params: dict[str, Any] | None = None, progress: Any = None) -> TableSummary:
    """Score the full table for the active (or a given) affinity version; replaces that version's table whole."""
    p = table_params(params)
    version = p["version"] or versions.active_version(ws, AffinityModel.kind)
    if version is None:
        raise AtelierError("no active affinity model: train one (`python -m core train affinity`) or pass --version")
    model = load_model(ws, version)
    _check_scorable(model, version)
    started = time.perf_counter()
    user_ids, brand_ids = model.user_ids.to_array(), model.brand_ids.to_array()
    ranges = partitions(model.n_users, int(p["partition_users"]))
    root = ws.path / FOLDER
    staging = root / f".staging-{uuid.uuid4().hex[:12]}"
    (staging / "user_top_brands").mkdir(parents=True)
    runner = "dask" if (in_worker() or scheduler_address()) else "local"
    side = model.brand_side
    shared = {"staging": str(staging), "brand_ids": brand_ids, "brand_factors": model.brand_factors,
              "brand_bias": model.brand_bias, "side_brand_factors": side.brand_factors,
              "k_brands": int(p["k_brands"]), "k_users": int(p["k_users"])}
    args = [(i, a, user_ids[a:b], model.user_factors[a:b], model.user_bias[a:b],
             None if side.user_factors is None else side.user_factors[a:b]) for i, (a, b) in enumerate(ranges)]
    results: dict[int, dict[str, Any]] = {}
    k_users = min(int(p["k_users"]), model.n_users)
    top = np.empty((model.n_brands, 0), dtype=np.uint64)  # per brand the best keys so far, unsorted

    def done(i: int) -> None:
        if progress is not None:
            progress.update(0.9 * (len(results) + 1) / len(ranges),
                            f"scored user partition {len(results) + 1}/{len(ranges)}")

    threads = int(p["local_threads"] or os.cpu_count() or 1)
    # One BLAS thread per partition, here as on a Dask worker: float32 sums then round the same way in both
    # runners (2 BLAS threads change 2% of the scores in the last bit and can swap near-tied ranks).
    blas = threadpool_limits(1, user_api="blas")
    try:
        for i, result in fan_out(score_partition, args, on_done=done, shared=shared, name="affinity-table",
                                 local_threads=threads):
            # Merge as parts arrive (any order): keys are unique per brand (tie-break by user index built in),
            # so the k smallest of them are the same set whatever order the parts came in.
            top = topk.merge(top, result.pop("cand_keys"), k_users)
            results[i] = result
        top_u, top_s = topk.decode(np.sort(top, axis=1))
        brand_file = staging / "brand_top_users.parquet"
        _write_atomic(_brand_side_table(user_ids, brand_ids, top_u, top_s), brand_file)
        seconds = time.perf_counter() - started
        summary = TableSummary(str(root / version), version, model.n_users, model.n_brands,
                               min(int(p["k_brands"]), model.n_brands), k_users,
                               len(ranges), runner, round(seconds, 3), round(model.n_users / max(seconds, 1e-9), 1))
        manifest = {**asdict(summary), "files": {f"user_top_brands/{results[i]['file']}": results[i]["sha256"]
                                                 for i in range(len(ranges))}
                    | {brand_file.name: file_sha256(brand_file)}}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _publish(staging, root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a failed or cancelled run leaves nothing half-written
        raise
    finally:
        blas.restore_original_limits()
    if progress is not None:
        progress.update(1.0, f"affinity table of {version}: {model.n_users:,} users × {model.n_brands:,} brands")
    return summary


def score_table_job(ws: Workspace, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job function (local runner or Dask): `score_table` with the job's params; the summary as the result."""
    return asdict(score_table(ws, params, progress))


def submit_scoring(ws: Workspace, params: dict[str, Any], by: str = "local") -> int:
    """Start table scoring as a background job (on the Dask cluster when one is configured); returns the job id."""
    # here, not at the top: the facade reads the catalog, which lists this module
    table_params(params)  # reject bad parameters now, not in the worker
    return jobs.submit(ws, KIND, {**params, "by": by}, submitted_by=by)


def read_manifest(ws: Workspace, version: str | None = None) -> dict[str, Any]:
    """The manifest of a scored table (default: the active model version's), its files' checksums verified."""
    version = version or versions.active_version(ws, AffinityModel.kind)
    folder = ws.path / FOLDER / str(version)
    if version is None or not (folder / "manifest.json").is_file():
        raise AtelierError(f"no affinity table for model version {version}: run `python -m core scaleout score-table`")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        if not (folder / name).is_file() or file_sha256(folder / name) != digest:
            raise AtelierError(f"affinity table file {folder / name} is missing or changed: score the table again")
    return manifest


def user_top_brands(ws: Workspace, version: str | None = None, user_id: str | None = None) -> pd.DataFrame:
    """user_id, rank (1 = best), brand_id, score for every user (or one), in user-index order."""
    manifest = read_manifest(ws, version)
    folder = Path(manifest["path"])
    parts = sorted(n for n in manifest["files"] if n.startswith("user_top_brands/"))
    where = None if user_id is None else [("user_id", "==", str(user_id))]
    return pd.concat([pd.read_parquet(folder / n, filters=where) for n in parts], ignore_index=True)


def brand_top_users(ws: Workspace, version: str | None = None, brand_id: str | None = None) -> pd.DataFrame:
    """brand_id, rank (1 = best), user_id, score: the top users of every brand (or one)."""
    manifest = read_manifest(ws, version)
    where = None if brand_id is None else [("brand_id", "==", str(brand_id))]
    return pd.read_parquet(Path(manifest["path"]) / "brand_top_users.parquet", filters=where)


# --- internals -------------------------------------------------------------------------------------------


def _check_scorable(model: AffinityModel, version: str) -> None:
    """Refuse what the exact top-k cannot rank: a NaN or infinite factor (no order) or more users than a key holds."""
    arrays = [model.user_factors, model.brand_factors, model.user_bias, model.brand_bias]
    if model.brand_side.user_factors is not None:
        arrays += [model.brand_side.user_factors, model.brand_side.brand_factors]
    if not all(np.isfinite(a).all() for a in arrays):
        raise AtelierError(f"affinity model {version} has non-finite factors or biases (NaN or inf): retrain it; "
                           "nothing was scored")
    if max(model.n_users, model.n_brands) > topk.MAX_INDEX + 1:
        raise AtelierError(f"affinity table: at most {topk.MAX_INDEX + 1:,} users and brands can be ranked "
                           f"(got {model.n_users:,} × {model.n_brands:,}); nothing was scored")


def _user_side_table(user_ids: np.ndarray, brand_ids: np.ndarray, idx: np.ndarray, scores: np.ndarray) -> pa.Table:
    m, k = idx.shape
    users = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(m, dtype=np.int32), k)), pa.array(user_ids))
    brands = pa.DictionaryArray.from_arrays(pa.array(idx.ravel()), pa.array(brand_ids))
    return pa.table({"user_id": users, "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int16), m)),
                     "brand_id": brands, "score": pa.array(scores.ravel())})


def _brand_side_table(user_ids: np.ndarray, brand_ids: np.ndarray, idx: np.ndarray, scores: np.ndarray) -> pa.Table:
    """idx int64 (n_brands, k) global user indices, scores float32 (n_brands, k), best first per brand."""
    n_brands, k = idx.shape
    brands = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(n_brands, dtype=np.int32), k)),
                                            pa.array(brand_ids))
    users = pa.array(user_ids[idx.ravel()])
    return pa.table({"brand_id": brands, "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n_brands)),
                     "user_id": users, "score": pa.array(scores.ravel())})


def _write_atomic(table: pa.Table, path: Path) -> int:
    """Write via a temporary name, so a retried part (worker lost mid-write) never leaves a torn file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return table.num_rows


def _publish(staging: Path, final: Path) -> None:
    """Swap the complete staging folder in for the version's previous table."""
    old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)
