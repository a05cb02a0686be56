"""What an import into an existing workspace will change: rows added, removed and changed, before anyone confirms."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.data.workspace import Workspace

# The column that names a row of each table; interactions have none (a row is an event), outfits are keyed by the
# outfit (its rows are its items).
ROW_KEYS = {"catalogue": "item_id", "customers": "user_id", "outfits": "outfit_id"}
NOUNS = {"catalogue": "items", "customers": "customers", "outfits": "outfits", "interactions": "interactions"}


@dataclass(frozen=True)
class ImportChange:
    """Rows (items, customers, outfits or interactions) the new table adds, removes, changes and keeps."""

    kind: str
    added: int
    removed: int
    changed: int
    unchanged: int
    replaces: bool  # the workspace has this table today

    def sentence(self) -> str:
        noun = NOUNS.get(self.kind, "rows")
        if not self.replaces:
            return f"the workspace has no {self.kind} table yet: {self.added:,} {noun} will be added"
        if self.kind not in ROW_KEYS:
            return (f"the {self.kind} table is replaced whole: {self.removed:,} {noun} today, {self.added:,} after "
                    "the import")
        return (f"{self.added:,} {noun} added, {self.removed:,} removed, {self.changed:,} changed and "
                f"{self.unchanged:,} unchanged")


def preview_change(ws: Workspace, kind: str, new: pd.DataFrame) -> ImportChange:
    """Compare a validated table with the workspace's current one (by its row key where it has one)."""
    if not ws.has(kind):
        key = ROW_KEYS.get(kind)
        return ImportChange(kind, int(new[key].nunique()) if key else len(new), 0, 0, 0, False)
    old = ws.read_table(kind)
    key = ROW_KEYS.get(kind)
    if key is None:
        return ImportChange(kind, len(new), len(old), 0, 0, True)
    old_rows, new_rows = _by_key(old, key), _by_key(new, key)
    both = old_rows.index.intersection(new_rows.index)
    columns = sorted(set(old_rows.columns) | set(new_rows.columns))
    left = old_rows.reindex(index=both, columns=columns).astype("string").fillna("")
    right = new_rows.reindex(index=both, columns=columns).astype("string").fillna("")
    changed = int((left != right).any(axis=1).sum())
    return ImportChange(kind, int(len(new_rows.index.difference(old_rows.index))),
                        int(len(old_rows.index.difference(new_rows.index))), changed, int(len(both)) - changed, True)


def _by_key(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key: the table's own row, or (outfits) the sorted items of each outfit as one cell."""
    if key == "outfit_id":
        items = frame.groupby(frame[key].astype(str))["item_id"].agg(lambda s: "|".join(sorted(map(str, s))))
        return items.to_frame("items")
    return frame.assign(**{key: frame[key].astype(str)}).drop_duplicates(key).set_index(key)
