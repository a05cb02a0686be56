"""Per-session context for pages: the active workspace, the signed-in user, and errors as plain messages."""

from __future__ import annotations

import os
import threading

import pandas as pd
import streamlit as st

from core.config import get_settings
from core.data.workspace import Workspace, list_workspaces
from core.errors import AtelierError, NotReadyError, ValidationError, WorkspaceError
from core.services.startup import create_demo, open_workspace, schema_refusal
from ui.auth import USER_KEY

SESSION_KEY = "atelier_workspace"  # the workspace this browser session works in (set by the sidebar)
QUERY_KEY = "ws"  # ?ws=<name> opens a given workspace from a shared link
_DEMO_LOCK = threading.Lock()  # one demo generation per server process, however many sessions start at once


def active_workspace_name() -> str:
    """Name chosen in this session, else ?ws= from the URL, else ATELIER_WORKSPACE (default `demo`)."""
    chosen = st.session_state.get(SESSION_KEY)
    if chosen:
        return str(chosen)
    from_url = st.query_params.get(QUERY_KEY)
    return str(from_url) if from_url else get_settings().workspace


def set_workspace(name: str) -> None:
    """Switch this session to another workspace."""
    st.session_state[SESSION_KEY] = name


def current_workspace() -> Workspace:
    """The active workspace (a new database gets its tables); WorkspaceError (see `show_error`) if it is gone."""
    name = active_workspace_name()
    try:
        ws = Workspace.named(name)
    except WorkspaceError:
        fallback = _fallback(name)
        if fallback is None:
            raise
        ws = fallback
        set_workspace(ws.name)
    _ready(ws)
    return ws


def current_user() -> str:
    """The key of the person acting in this session (set by the sign-in gate; "local" without sign-in)."""
    return str(st.session_state.get(USER_KEY, "local"))


def show_error(error: BaseException) -> None:
    """An expected failure as a plain message (with the list of problems for a rejected file); others in full."""
    if isinstance(error, ValidationError):
        st.error(f"{len(error.problems)} problem(s) found, nothing was changed. Fix the file and try again.",
                 icon=":material/rule:")
        st.dataframe(pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "rule": p.rule, "value": p.value}
                                   for p in error.problems]), hide_index=True, width="stretch")
    elif isinstance(error, NotReadyError):  # a fresh workspace is not broken: say what to do next, calmly
        st.info(str(error), icon=":material/info:")
    elif isinstance(error, AtelierError):
        st.error(str(error), icon=":material/error:")
    else:
        st.exception(error)


def ensure_demo() -> Workspace | None:
    """First launch: generate the demo workspace when no workspace exists at all (with a spinner); else None."""
    settings = get_settings()
    if list_workspaces(settings):
        return None
    with _DEMO_LOCK:
        if list_workspaces(settings):  # another session generated it while this one waited
            return None
        with st.spinner("First launch: creating the demo workspace (about 10 seconds)…", show_time=True):
            size = os.environ.get("ATELIER_DEMO_SIZE", "small")  # tests use "tiny"
            return create_demo(settings.workspace_dir(), size=size, seed=settings.seed)


def _fallback(name: str) -> Workspace | None:
    """When the configured workspace is absent but others exist, the first one (so the app still opens)."""
    if st.session_state.get(SESSION_KEY) == name:
        st.session_state.pop(SESSION_KEY)
    others = list_workspaces()
    return others[0] if others else None


def _ready(ws: Workspace) -> None:
    """Give a brand-new database its tables; an outdated one is left as it is (the sidebar says so and every
    write is refused until someone runs `python -m core db upgrade`: the app never migrates behind people's backs),
    and finish or undo an import a crash interrupted, once per server process."""
    if schema_refusal(ws) is None:
        open_workspace(ws)
