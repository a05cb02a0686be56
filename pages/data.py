"""Data: see what the workspace holds, import CSV/Parquet files (validated, all or nothing) or a public data set."""

from __future__ import annotations

import streamlit as st

from core.columns import EVENTS
from core.errors import AtelierError, ValidationError, WorkspaceError
from core.services.import_preview import preview_change
from core.services.imports import ImportFile, default_public_folder, import_files, import_public, server_file
from core.services.uploads import DEFAULT_FOLDERS, read_table, sniff_columns
from ui.auth import guard
from ui.context import current_user, current_workspace, set_workspace, show_error
from ui.imports import (KIND_HELP, fingerprint, mapping_editor, result_message, validation_report,
                        workspace_overview)

KINDS = ["interactions", "catalogue", "outfits", "customers"]
PUBLIC_LABELS = {"fashion_product_images": "Fashion Product Images (Myntra styles)",
                 "hm": "H&M articles + transactions",
                 "myntra": "Myntra catalogue", "mango": "Mango curated outfits", "polyvore": "Polyvore outfits",
                 "tmall": "Tmall user → shop purchases"}


def _source() -> tuple[str, bytes] | None:
    """The chosen file's name and bytes (an upload, or a path on the server)."""
    how = st.radio("Source", ["Upload a file", "Path on the server"], horizontal=True, key="data_how")
    if how == "Upload a file":
        uploaded = st.file_uploader("CSV or Parquet file", type=["csv", "parquet", "pq", "txt"], key="data_upload")
        return (uploaded.name, uploaded.getvalue()) if uploaded is not None else None
    path = st.text_input("Path of a CSV or Parquet file on this server", key="data_path",
                         help="Inside ATELIER_HOME, the shared data folder or a folder listed in "
                              "ATELIER_IMPORT_DIRS").strip()
    if not path:
        return None
    try:
        found = server_file(path)
    except AtelierError as error:
        st.warning(str(error))
        return None
    return found.name, found.read_bytes()


def _import_files_tab(ws_name: str) -> None:
    kind = st.segmented_control("Table", KINDS, default="interactions", key="data_kind") or "interactions"
    st.caption(KIND_HELP[kind])
    chosen = _source()
    if chosen is None:
        return
    name, data = chosen
    try:
        columns, preview = sniff_columns(data, filename=name)
    except ValidationError as error:
        validation_report(error.problems)
        return
    st.dataframe(preview, hide_index=True, width="stretch")
    st.markdown("**Map the file's columns to ours**")
    mapping = mapping_editor(columns, kind, key=f"data_{kind}")
    event = None
    if kind == "interactions" and not {"event", "weight"} & set(mapping.values()):
        event = st.selectbox("The file has no event column: every row is a", EVENTS, index=len(EVENTS) - 1,
                             key="data_default_event")
    into = st.radio("Import into", [f"this workspace ({ws_name})", "a new workspace"], horizontal=True, key="data_into")
    target = ws_name if into.startswith("this") else st.text_input("New workspace name", key="data_new_name").strip()
    into_this = into.startswith("this")
    stamp = fingerprint(data, kind, {**mapping, "(every row)": event})
    if st.button("Validate", icon=":material/rule:", key="data_validate"):
        try:
            with st.spinner(f"Checking every row of {name}…"):
                frame = read_table(data, kind, mapping, filename=name, default_event=event)
                change = preview_change(current_workspace(), kind, frame)
            st.session_state["data_checked"] = {"stamp": stamp, "rows": len(frame), "problems": [], "change": change}
        except ValidationError as error:
            st.session_state["data_checked"] = {"stamp": stamp, "rows": 0, "problems": error.problems}
    checked = st.session_state.get("data_checked")
    if not checked or checked["stamp"] != stamp:
        st.caption("Validate the file to see its report; Import is offered only for a clean file.")
        return
    if checked["problems"]:
        validation_report(checked["problems"])
        return
    st.success(f"{name}: {checked['rows']:,} rows, no problems.", icon=":material/task_alt:")
    confirmed = True
    change = checked.get("change")
    if into_this and change is not None and change.replaces:  # say what an import replaces before it does
        st.warning(f"Importing replaces {ws_name}'s {kind} table: {change.sentence()}. Trained model versions "
                   "and people's decisions stay.", icon=":material/swap_horiz:")
        confirmed = st.checkbox(f"Replace the {kind} table of {ws_name}", key=f"data_confirm_{stamp}")
    if st.button(f"Import into {target or '…'}", type="primary", icon=":material/upload:", key="data_commit",
                 disabled=not target or not confirmed):
        try:
            with st.spinner(f"Importing {name}…"):
                result = import_files(target, [ImportFile(kind, data, name, mapping, event)], by=current_user())
        except AtelierError as error:
            show_error(error)
            return
        st.session_state.pop("data_checked", None)
        st.session_state["data_result"] = result.as_dict()


def _public_tab() -> None:
    dataset = st.selectbox("Public data set", list(PUBLIC_LABELS), format_func=PUBLIC_LABELS.get, key="data_public")
    try:
        default = str(default_public_folder(dataset))
    except WorkspaceError:
        default = ""
    folder = st.text_input("Folder with its files", value=default, key=f"data_public_folder_{dataset}").strip()
    name = st.text_input("New workspace name", value=DEFAULT_FOLDERS[dataset],
                         key=f"data_public_name_{dataset}").strip()
    if st.button("Create workspace from it", icon=":material/dataset:", key="data_public_go",
                 disabled=not (folder and name)):
        try:
            with st.spinner(f"Reading and validating {PUBLIC_LABELS[dataset]}…"):
                result = import_public(dataset, folder, name, by=current_user())
        except AtelierError as error:
            show_error(error)
            return
        st.session_state["data_result"] = result.as_dict()


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Data")
    st.caption("Every file is checked before anything is written: a rejected import changes nothing.")
    try:
        ws = current_workspace()
    except AtelierError as error:
        show_error(error)
        return
    st.subheader(f"Workspace {ws.name}")
    try:
        workspace_overview(ws)
    except AtelierError as error:
        show_error(error)
    files_tab, public_tab = st.tabs(["Import files", "Import a public data set"])
    with files_tab:
        _import_files_tab(ws.name)
    with public_tab:
        _public_tab()
    result = st.session_state.get("data_result")
    if result:
        result_message(result)
        if result["workspace"] != ws.name and st.button(f"Switch to {result['workspace']}", key="data_switch"):
            set_workspace(result["workspace"])
            st.session_state.pop("data_result", None)
            st.rerun()


main()
