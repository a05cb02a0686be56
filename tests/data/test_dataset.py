"""Dataset: the tables read once and the id maps that cover every table's ids."""

from __future__ import annotations

import pytest

from core.data.dataset import Dataset
from core.data.workspace import Workspace
from core.errors import WorkspaceError


def test_id_maps_cover_every_table_and_keep_exact_ids(seeded_workspace: Workspace) -> None:
    data = Dataset.from_workspace(seeded_workspace)
    assert list(data.users.external) == ["u1", "u2"]
    assert list(data.items.external) == ["00123", "NA"]  # exact text: not a number, not missing
    assert list(data.brands.external) == ["B1", "B2"]
    assert data.table("catalogue") is seeded_workspace.catalogue()  # read once, the workspace's cached frame


def test_an_absent_table_is_none_and_named_when_required(seeded_workspace: Workspace) -> None:
    seeded_workspace.table_path("outfits").unlink()
    data = Dataset.from_workspace(seeded_workspace)
    assert data.outfits is None and len(data.items) == 2
    with pytest.raises(WorkspaceError, match="no outfits"):
        data.table("outfits")
