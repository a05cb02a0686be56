"""Dataset: a workspace's tables read once, with the id maps (users, items, brands) every model can share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.columns import Columns
from core.data.idmap import IdMap
from core.data.workspace import TABLES, Workspace
from core.errors import WorkspaceError


@dataclass(frozen=True)
class Dataset:
    """The four tables of one workspace (None where absent) and its id maps (sorted exact ids, see IdMap).

    users: user ids of the interactions and the customers; items: item ids of the catalogue, the interactions
    and the outfits; brands: the catalogue's brands and the interactions' brand ids. The frames are the
    workspace's shared cached ones: copy before mutating.
    """

    name: str
    interactions: pd.DataFrame | None
    catalogue: pd.DataFrame | None
    outfits: pd.DataFrame | None
    customers: pd.DataFrame | None
    users: IdMap
    items: IdMap
    brands: IdMap

    @classmethod
    def from_workspace(cls, ws: Workspace) -> "Dataset":
        tables = {name: ws.read_table(name) if ws.has(name) else None for name in TABLES}
        return cls(
            name=ws.name,
            **tables,
            users=_ids((tables["interactions"], Columns.user), (tables["customers"], Columns.user)),
            items=_ids((tables["catalogue"], Columns.item), (tables["interactions"], Columns.item),
                       (tables["outfits"], Columns.item)),
            brands=_ids((tables["catalogue"], Columns.brand_name), (tables["interactions"], Columns.brand)),
        )

    def table(self, name: str) -> pd.DataFrame:
        """One table; raises WorkspaceError naming it when the workspace has none."""
        frame = getattr(self, name) if name in TABLES else None
        if frame is None:
            raise WorkspaceError(f"workspace '{self.name}' has no {name}: import a {name} file on the Data page")
        return frame


def _ids(*columns: tuple[pd.DataFrame | None, str]) -> IdMap:
    present = [frame[column].dropna().astype(str).unique() for frame, column in columns
               if frame is not None and column in frame.columns]
    return IdMap.from_values(np.concatenate(present) if present else np.array([], dtype=object))
