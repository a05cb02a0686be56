"""The active model of a kind, loaded once per server and version: every page shares the one copy."""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from core.data.workspace import Workspace
from core.services import models

Model = TypeVar("Model")


def active_model(ws: Workspace, kind: str, load: Callable[[Workspace], Model]) -> Model | None:
    """`load(ws)` of the active `kind` version, None when no version is active.

    Cached per workspace, kind and active version, so activating or training a new version is picked up on the
    next rerun; `load` is the service function that turns the active artifact into a model.
    """
    version = models.active_version(ws, kind)
    if version is None:
        return None
    return _load(str(ws.path), kind, version, f"{load.__module__}.{load.__qualname__}", load)


# A loaded model is shared and never mutated (cache_resource, no copy). Streamlit cannot hash a function, so
# the loader's name stands for it in the key: two loaders of one kind (a model, a model with its items frame)
# never answer for each other.
@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _load(ws_path: str, kind: str, version: str, loader: str, _load_model: Callable[[Workspace], Model]) -> Model:
    return _load_model(Workspace.open(ws_path))
