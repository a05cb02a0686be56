"""The affinity comparison (popularity, WARP, transposed WARP, bi-directional, ALS) on a workspace or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.data.public import read_tmall
from core.data.readers import read_table
from core.data.workspace import Workspace
from core.models.affinity import AffinityParams
from core.models.affinity.compare import MODELS, evaluate_interactions

__all__ = ["MODELS", "evaluate_workspace", "evaluate_file"]


def evaluate_workspace(ws: Workspace, params: AffinityParams | None = None, **kwargs: Any) -> dict[str, object]:
    """`evaluate_interactions` on a workspace's interactions table."""
    return evaluate_interactions(ws.interactions(), params, **kwargs)


def evaluate_file(path: Path, params: AffinityParams | None = None, **kwargs: Any) -> dict[str, object]:
    """Evaluate on a generic-schema interactions file (CSV/Parquet) or a Tmall folder, without a workspace."""
    path = Path(path)
    frame = read_tmall(path)["interactions"] if path.is_dir() else read_table(path, "interactions")
    return evaluate_interactions(frame, params, **kwargs)
