"""The shared sidebar: workspace switcher, active model versions, running jobs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.services import jobs
from core.data.workspace import Workspace, list_workspaces
from core.errors import AtelierError
from core.services.startup import schema_refusal
from core.services.models import KIND_NAMES
from core.services.workspace import active_models
from ui import pages
from ui.auth import allowed
from ui.context import current_workspace, set_workspace

MODEL_KINDS = {  # artifact kind -> what a person calls it
    "affinity": "Brand affinity",
    "long_tail": "Long-tail embeddings",
    "attributes": "Attribute predictor",
    "complementary": "Outfit pairs",
}
JOBS_PAGE = pages.BY_PATH["pages/jobs.py"]
SWITCHER_KEY = "sidebar_workspace"


def render_sidebar() -> Workspace | None:
    """Draw the sidebar; returns the active workspace (None when there is none yet)."""
    with st.sidebar:
        ws = _workspace_switcher()
        if ws is None:
            return None
        _schema_notice(ws)
        _active_models(ws)
        _running_jobs(ws)
    return ws


def _schema_notice(ws: Workspace) -> None:
    """Say up front, on every page, that this workspace's database refuses changes until it is upgraded."""
    refusal = schema_refusal(ws)
    if refusal:
        st.warning(f"Read-only: {refusal}", icon=":material/lock:")


def _workspace_switcher() -> Workspace | None:
    names = [w.name for w in list_workspaces()]
    if not names:
        st.caption("No workspace yet: import data on the Data page or run `python -m core demo`.")
        return None
    try:
        ws = current_workspace()
    except AtelierError as error:
        st.warning(str(error))
        return None
    if ws.name not in names:  # opened by path (ATELIER_WORKSPACE=/some/dir): still offer it
        names.insert(0, ws.name)
    if st.session_state.get(SWITCHER_KEY) != ws.name:  # follow switches made elsewhere (URL, fallback)
        st.session_state[SWITCHER_KEY] = ws.name
    st.selectbox("Workspace", names, key=SWITCHER_KEY, on_change=_switched,
                 help="Each workspace holds its own data, models and decisions.")
    manifest = ws.manifest
    source = manifest.get("source", "")
    st.caption(manifest.get("description") or (f"source: {source}" if isinstance(source, str) else "imported data"))
    return ws


def _switched() -> None:
    # Runs before the rerun, so the page below already reads the newly chosen workspace.
    set_workspace(st.session_state[SWITCHER_KEY])


def _active_models(ws: Workspace) -> None:
    st.markdown("**Active models**")
    # "Brand affinity: v3 · 5 Dec 19:52": the label already says which model, the name adds which version.
    active = {row.kind: row.name.removeprefix(KIND_NAMES.get(row.kind, "") + " ")
              for row in active_models(ws).itertuples()}
    lines = [f"{label}: {active[kind]}" if kind in active else f"{label}: *none yet*"
             for kind, label in MODEL_KINDS.items()]
    lines += [f"{kind}: {name}" for kind, name in active.items() if kind not in MODEL_KINDS]
    st.markdown("  \n".join(lines))


def _running_jobs(ws: Workspace) -> None:
    try:
        busy = pd.concat([jobs.list_jobs(ws, status=s, limit=5) for s in ("running", "queued")], ignore_index=True)
    except AtelierError:
        return
    st.markdown("**Running jobs**")
    if busy.empty:
        st.caption("Nothing running.")
        return
    for row in busy.head(5).itertuples():
        progress = float(getattr(row, "progress", 0.0) or 0.0)
        message = str(getattr(row, "message", "") or "")
        shown = f" · {message[:60]}{'…' if len(message) > 60 else ''}" if message else ""
        st.progress(min(1.0, max(0.0, progress)), text=f"#{row.id} {row.kind} · {row.status}{shown}")
    # Page links only work once the session has been through app.py's navigation.
    if JOBS_PAGE.file.is_file() and pages.in_app_shell() and allowed(JOBS_PAGE.path):
        st.page_link(JOBS_PAGE.path, label="All jobs", icon=JOBS_PAGE.icon)
