"""Interactions grouped by customer (CSR of brand and event codes): one customer's events are a slice, not a scan."""

# Built once per interactions table (O(rows): three factorizes and one stable counting sort) and then read many
# times: a preview of 20 customers gathers their 20 slices instead of filtering every row of the table.

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from core.columns import Columns


@dataclass(frozen=True)
class CustomerEvents:
    """Rows of customer k are `indptr[k]:indptr[k + 1]` of `brand` and `event`, in the table's order.

    users: Index of external user ids (n_customers,); indptr: int64 (n_customers + 1,);
    brand: int32 (n_rows,) codes into `brands` (-1 = no brand); event: int16 (n_rows,) codes into `events`
    (-1 = no event). `brands` and `events` are sorted, so code order is name order.
    """

    users: pd.Index
    indptr: np.ndarray
    brand: np.ndarray
    event: np.ndarray
    brands: pd.Index
    events: pd.Index

    @classmethod
    def build(cls, interactions: pd.DataFrame) -> "CustomerEvents":
        """Index `interactions` (user_id, brand_id, event); rows without a user are left out."""
        user, users = pd.factorize(interactions[Columns.user])
        brand, brands = pd.factorize(interactions[Columns.brand], sort=True)
        event, events = pd.factorize(interactions[Columns.event], sort=True)
        known = user >= 0
        user, brand, event = user[known], brand[known], event[known]
        order = np.argsort(user, kind="stable")  # a stable sort keeps each customer's rows in table order
        counts = np.bincount(user, minlength=len(users))
        indptr = np.zeros(len(users) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(pd.Index(users), indptr, brand[order].astype(np.int32), event[order].astype(np.int16),
                   pd.Index(brands), pd.Index(events))

    @property
    def n_rows(self) -> int:
        return int(len(self.brand))

    def rows_of(self, user_ids: Sequence[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner int64 (m,), row int64 (m,)): every row of the given customers, `owner` = position in `user_ids`.

        Unknown customers have no rows. Costs O(len(user_ids) + m), whatever the size of the table.
        """
        where = self.users.get_indexer(pd.Index(np.asarray(user_ids, dtype=object)))
        found = np.flatnonzero(where >= 0)
        starts, ends = self.indptr[where[found]], self.indptr[where[found] + 1]
        lengths = ends - starts
        owner = np.repeat(found.astype(np.int64), lengths)
        # row = start of its customer's slice + its offset inside that slice
        offsets = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return owner, np.repeat(starts, lengths) + offsets

    def event_counts(self, user_ids: Sequence[str] | np.ndarray,
                     brands: Sequence[str]) -> list[dict[str, dict[str, int]]]:
        """Per customer in `user_ids`: {brand: {event: count}} over their rows on `brands` (other brands left out)."""
        out: list[dict[str, dict[str, int]]] = [{} for _ in range(len(user_ids))]
        wanted = self.brands.get_indexer(pd.Index(list(brands), dtype=object))
        wanted = wanted[wanted >= 0]
        if not len(wanted):
            return out
        owner, rows = self.rows_of(user_ids)
        brand, event = self.brand[rows], self.event[rows]
        keep = np.isin(brand, wanted) & (event >= 0)
        n_brands, n_events = len(self.brands), len(self.events)
        keys, counts = np.unique((owner[keep] * n_brands + brand[keep]) * n_events + event[keep], return_counts=True)
        for key, count in zip(keys.tolist(), counts.tolist()):
            who, rest = divmod(key, n_brands * n_events)
            b, e = divmod(rest, n_events)
            out[who].setdefault(str(self.brands[b]), {})[str(self.events[e])] = int(count)
        return out
