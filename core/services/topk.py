"""Exact top-k of score blocks without sorting them: a lower-bound threshold, then sortable uint64 keys."""

# The rule everywhere: best first by score, ties to the lower index, the same as a stable argsort of -score.
# A key packs (score descending, index ascending) into one uint64, so every key of a row or column is distinct:
# np.partition and np.sort on keys then give exactly that order, with no tie left to chance at the k-th place.
# Only scores at or above a threshold that is known to be ≤ the k-th best become keys (≈ k per row or column),
# which is what makes a (1024, n_brands) block cost a few passes instead of a partition of every score.

from __future__ import annotations

import numpy as np

GROUP = 16  # columns per group whose maximum bounds a row's k-th best: ≈ 1.05·k of a row survive the bound
SPARE = 4  # groups per k in `group_size`: ≈ 1.15·k of a column survive, in ≈ SPARE·k maxima of memory
_SIGN = np.uint32(0x80000000)
_LOW31 = np.uint32(0x7FFFFFFF)
PAD = np.uint64(np.iinfo(np.uint64).max)  # after every real key: a NaN score with index 2**32 - 1 never occurs
MAX_INDEX = 2**32 - 2  # indices must fit the key's low 32 bits and stay below PAD


def keys(scores: np.ndarray, index: np.ndarray) -> np.ndarray:
    """uint64 keys, ascending = best first: float32 `scores` descending, then `index` (0..MAX_INDEX) ascending."""
    # + 0 turns -0.0 into 0.0: they compare equal as floats, so they must get the same key bits too
    bits = (np.asarray(scores, dtype=np.float32) + np.float32(0)).view(np.uint32)
    desc = np.where(bits & _SIGN, bits, ~bits & _LOW31)  # negative scores after all positive ones, both reversed
    return (desc.astype(np.uint64) << np.uint64(32)) | np.asarray(index).astype(np.uint64)


def decode(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (index int64, score float32) each key was made from (exact inverse of `keys`)."""
    desc = (key >> np.uint64(32)).astype(np.uint32)
    bits = np.where(desc & _SIGN, desc, ~desc & _LOW31)
    return (key & np.uint64(0xFFFFFFFF)).astype(np.int64), bits.view(np.float32)


def row_threshold(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row of float32 (m, n) scores a value ≤ its k-th best score (1 ≤ k ≤ n): float32 (m,).

    The columns fall into `width` ≥ k groups (column j in group j mod width); the k-th best of the groups'
    maxima is the k-th best of `width` scores of the row, so it cannot beat the row's own k-th best.
    """
    n = scores.shape[1]
    width = n // max(1, min(GROUP, n // k))
    best = scores[:, :width].copy()
    for j in range(width, n, width):  # contiguous column blocks: one vectorised pass each, no reshape copy
        w = min(width, n - j)
        np.maximum(best[:, :w], scores[:, j:j + w], out=best[:, :w])
    return np.partition(best, width - k, axis=1)[:, width - k]


def group_size(m: int, k: int) -> int:
    """Rows per group for `row_group_max`: m rows give about SPARE·k groups, and never fewer than k (1 ≤ k ≤ m)."""
    # With G groups about G·ln(G / (G - k)) rows of a column clear the bound (iid scores): 1.15·k at G = 4k,
    # for any m, and the maxima take 4k × n floats however large the partition is.
    return max(1, m // (SPARE * k))


def row_group_max(scores: np.ndarray, g: int) -> np.ndarray:
    """Column-wise maxima of each run of `g` consecutive rows of (c, n) scores: (ceil(c / g), n)."""
    c, n = scores.shape
    full = c // g
    parts = [scores[:full * g].reshape(full, g, n).max(axis=1)]
    if c % g:
        parts.append(scores[full * g:].max(axis=0, keepdims=True))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of float32 (m, n) scores the k best columns, best first, ties to the lower column: (int32, float32)."""
    m, n = scores.shape
    k = min(k, n)
    flat = np.flatnonzero(scores >= row_threshold(scores, k)[:, None])  # row-major: already grouped by row
    rows = flat // n
    top = best_per_group(keys(scores.ravel()[flat], flat - rows * n), rows, m, k, grouped=True)
    idx, vals = decode(top)
    return idx.astype(np.int32), vals


def best_per_group(key: np.ndarray, group: np.ndarray, n_groups: int, k: int, *, grouped: bool = False) -> np.ndarray:
    """Per group 0..n_groups-1 its k smallest keys, ascending: uint64 (n_groups, k).

    `group` (same length as `key`) says whose each key is; every group must hold at least k keys.
    `grouped` says the keys already come in group order (saves the sort that brings them together).
    """
    if not grouped:
        # a 16-bit stable argsort is a radix sort: linear, where a 64-bit one is a merge sort
        order = np.argsort(group.astype(np.uint16 if n_groups <= 1 << 16 else np.int64), kind="stable")
        key, group = key[order], group[order]
    counts = np.bincount(group, minlength=n_groups)
    if n_groups and counts.min() < k:
        raise RuntimeError(f"top-k: a group holds {counts.min()} candidates, fewer than k={k}; "
                           "the threshold was not a lower bound (were the scores recomputed differently?)")
    starts = np.cumsum(counts) - counts
    dense = np.full((n_groups, int(counts.max(initial=k))), PAD, dtype=np.uint64)
    dense[group, np.arange(len(key)) - np.repeat(starts, counts)] = key
    dense.sort(axis=1)
    return dense[:, :k]


def merge(best: np.ndarray, more: np.ndarray, k: int) -> np.ndarray:
    """Per row the k smallest of two (n, ·) uint64 key arrays (unsorted within a row; `np.sort` when done)."""
    both = np.concatenate([best, more], axis=1)
    return np.partition(both, k - 1, axis=1)[:, :k] if both.shape[1] > k else both
