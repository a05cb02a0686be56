"""Widgets of the Data page: what a workspace holds, the column-mapping editor and the validation report."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
import streamlit as st

from core.columns import SUPPRESSION_FLAGS, attribute_columns
from core.data.workspace import Workspace
from core.errors import Problem
from core.services.imports import recent_imports, table_details, table_preview, workspace_summary
from core.services.uploads import suggest_mapping, table_columns

IGNORE = "(ignore)"
KIND_HELP = {
    "interactions": "who did what: user_id, item_id and/or brand_id, event (view, click, wishlist, add_to_bag, order) "
                    "or weight, timestamp",
    "catalogue": "one row per item: item_id, name, description, brand, category, category_group, division, price, "
                 "image_url, attr_<name>",
    "outfits": "curated outfits: one row per (outfit_id, item_id)",
    "customers": "one row per user_id with consent flags: unsubscribed, bounced, test_account",
}


def workspace_overview(ws: Workspace) -> None:
    """Rows per table, the catalogue's attribute columns and the latest imports of a workspace."""
    summary, details = workspace_summary(ws), table_details(ws)
    # Counted as the home page counts them (outfits, not outfit rows), so the two pages never disagree.
    shown = {"interactions": ("Interactions", summary.get("interactions")),
             "catalogue": ("Catalogue items", summary.get("catalogue")),
             "outfits": ("Outfits", details.get("outfits")),
             "customers": ("Customers", summary.get("customers"))}
    notes = {"outfits": f"{summary['outfits']:,} outfit items" if summary.get("outfits") is not None else None,
             "customers": _flags_note(details) if summary.get("customers") is not None else None}
    for col, (kind, (label, value)) in zip(st.columns(4), shown.items()):
        col.metric(label, f"{value:,}" if value is not None else "—", border=True)
        if value is None:
            col.caption(f"no {kind} table yet")
        elif notes.get(kind):
            col.caption(notes[kind])
    if ws.has("catalogue"):
        attributes = attribute_columns(list(ws.catalogue().columns))
        if attributes:
            st.caption("Catalogue attributes: " + ", ".join(a.removeprefix("attr_") for a in attributes))
    present = [kind for kind in ("interactions", "catalogue", "outfits", "customers") if summary.get(kind) is not None]
    if present:
        with st.expander("First rows of each table"):
            for tab, kind in zip(st.tabs(present), present):
                tab.dataframe(table_preview(ws, kind), hide_index=True, width="stretch")
    history = recent_imports(ws, limit=10)
    if not history.empty:
        with st.expander(f"Latest imports ({len(history)})"):
            st.dataframe(history, hide_index=True, width="stretch",
                         column_config={"at": st.column_config.DatetimeColumn("at", format="YYYY-MM-DD HH:mm")})


def _flags_note(details: dict[str, int]) -> str:
    names = {"unsubscribed": "unsubscribed", "bounced": "bounced", "test_account": "test accounts"}
    flagged = [f"{details[f]:,} {names.get(f, f)}" for f in SUPPRESSION_FLAGS if details.get(f)]
    return ("never in an export: " + " · ".join(flagged)) if flagged else "none unsubscribed, bounced or test"


def target_options(kind: str) -> list[str]:
    """Our columns a source column can map to (catalogue: plus attr_<name> added per source column)."""
    return [IGNORE] + table_columns(kind)


def mapping_editor(columns: list[str], kind: str, key: str) -> dict[str, str | None]:
    """One selectbox per source column, prefilled by name; catalogue columns we do not know become attributes."""
    suggested = suggest_mapping(columns, kind)
    mapping: dict[str, str | None] = {}
    grid = st.columns(min(len(columns), 4) or 1)
    for i, column in enumerate(columns):
        options = target_options(kind)
        guess = suggested.get(column)
        if kind == "catalogue":
            as_attribute = "attr_" + column.strip().lower().replace(" ", "_").replace("-", "_").removeprefix("attr_")
            options.append(as_attribute)
            if guess is None:
                guess = as_attribute
        default = options.index(guess) if guess in options else 0
        choice = grid[i % len(grid)].selectbox(column, options, index=default, key=f"{key}_map_{i}_{column}")
        mapping[column] = None if choice == IGNORE else choice
    return mapping


def fingerprint(data: bytes, kind: str, mapping: dict[str, str | None]) -> str:
    """Identifies exactly what was validated, so Commit only ever imports that file with that mapping."""
    digest = hashlib.sha256(data)
    digest.update(kind.encode())
    digest.update(json.dumps(mapping, sort_keys=True).encode())
    return digest.hexdigest()


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "rule": p.rule, "value": p.value}
                         for p in problems], columns=["file", "row", "column", "rule", "value"])


def validation_report(problems: list[Problem]) -> None:
    st.error(f"{len(problems)} problem(s): nothing can be imported until the file is fixed.", icon=":material/rule:")
    st.dataframe(problems_frame(problems), hide_index=True, width="stretch",
                 column_config={"row": st.column_config.NumberColumn("row", format="%d")})


def result_message(result: dict[str, Any]) -> None:
    verb = "Created" if result["created"] else "Updated"
    rows = ", ".join(f"{n:,} {kind}" for kind, n in result["rows"].items())
    st.success(f"{verb} workspace **{result['workspace']}**: {rows}.", icon=":material/check_circle:")
    for note in result.get("notes", []):
        st.caption(note)
