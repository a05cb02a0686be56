"""IdMap: external string ids <-> contiguous internal indices, one small frozen object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.errors import UnknownIdError


@dataclass(frozen=True)
class IdMap:
    """External ids (exact strings) in index order; index i <-> external[i]."""

    external: np.ndarray  # dtype object (str), shape (n,)
    _lookup: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ext = np.asarray(self.external, dtype=object)
        object.__setattr__(self, "external", ext)
        lookup = {value: i for i, value in enumerate(ext)}
        if len(lookup) != len(ext):
            raise ValueError("IdMap ids must be unique")
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def from_values(cls, values: Iterable[str] | pd.Series) -> "IdMap":
        """Unique ids in sorted order, so the same data always gives the same indices."""
        unique = pd.unique(pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object))
        return cls(np.array(sorted(str(v) for v in unique), dtype=object))

    def __len__(self) -> int:
        return len(self.external)

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._lookup

    def index(self, external_id: str, what: str = "id") -> int:
        """Index of one id; raises UnknownIdError naming the id and what to check."""
        try:
            return self._lookup[external_id]
        except KeyError:
            raise UnknownIdError(f"unknown {what} {external_id!r}: it is not in this model's data; check the id or "
                                 "retrain") from None

    def to_index(self, external_ids: Sequence[str] | pd.Series, what: str = "id", missing: str = "raise") -> np.ndarray:
        """Indices (int64) of ids; missing='raise' raises on an unknown id, missing='mask' gives -1 for it."""
        if missing == "mask":
            return np.array([self._lookup.get(v, -1) for v in external_ids], dtype=np.int64)
        return np.array([self.index(v, what) for v in external_ids], dtype=np.int64)

    def to_external(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.external[np.asarray(indices, dtype=np.int64)]

    def to_array(self) -> np.ndarray:
        """Fixed-width unicode array for saving without pickle (np.save / safetensors metadata)."""
        return np.asarray(self.external, dtype=str)

    @classmethod
    def from_array(cls, array: np.ndarray) -> "IdMap":
        return cls(np.asarray(array).astype(object))
