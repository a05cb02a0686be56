"""Long-tail maps: ALS vs content-predicted UMAP maps, linked selection, neighbours side by side, evaluation."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import AtelierError, ParamsError
from core.services import long_tail
from ui.auth import guard
from ui import maps
from ui.context import current_user, current_workspace, show_error
from ui.jobs import cannot_train, job_panel, remember_job
from ui.versions import versions_panel

SELECT_MODES = ("points", "box", "lasso")
MAX_LISTED = 1_000  # rows of the selection table


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Long-tail maps")
    st.caption("Collaborative (ALS) vectors are noise for items with few interactions; a network trained on "
               "well-known items predicts them from content. Compare both spaces on the same items.")
    try:
        ws, user = current_workspace(), current_user()
        loaded = maps.load(ws)
    except AtelierError as error:
        show_error(error)
        return
    # Only the open tab runs and is sent: the evaluation chart and tables and the versions list cost the browser
    # about a fifth of a visit to the maps (benchmarks/longtail_page.py); opening another tab is one rerun.
    maps_tab, eval_tab, train_tab = st.tabs(["Maps & neighbours", "Evaluation", "Train & versions"], key="lt_tab",
                                            on_change="rerun")
    if train_tab.open:
        with train_tab:
            train_section(ws, user)
    if loaded is None:
        maps_tab.info("No long-tail model yet: train one in the **Train & versions** tab.")
        return
    model, items = loaded
    if maps_tab.open:
        with maps_tab:
            maps_section(ws, model, items)
    if eval_tab.open:
        with eval_tab:
            evaluation_section(model)


def maps_section(ws, model: long_tail.LongTailModel, items) -> None:  # noqa: ANN001 — Workspace, DataFrame
    """Two linked maps, the selection list (the details of what is selected) and the neighbours of one item."""
    if not model.layouts:
        st.info("This version was trained without maps: train again with projections on.")
        return
    left, right = st.columns(2)
    colour_by = left.radio("Colour by", ["bucket", "category", "brand"], horizontal=True, key="lt_colour")
    other = right.radio("Right map", ["predicted", "blended"], horizontal=True, key="lt_space")
    headline = maps.headline_metrics(model.meta.get("evaluation"), other)
    if headline:
        st.caption("Cold-start NDCG@10 of ranking an item's held-out users (all buckets in the *Evaluation* tab):")
        for column, (label, value, delta, help_text) in zip(st.columns(len(headline)), headline):
            column.metric(label, value, delta, help=help_text)
    state = st.session_state
    selected = np.asarray(state.get("lt_selected", []), dtype=np.int64)
    columns = st.columns(2)
    for column, space in zip(columns, ["als", other]):
        item_map = maps.cached_map(ws, model, items, space, colour_by, selected)
        event = column.plotly_chart(item_map.figure, key=f"lt_map_{space}", on_select="rerun",
                                    selection_mode=SELECT_MODES)
        rows = maps.selected_rows(event, item_map)
        if len(rows) and not np.array_equal(rows, selected):
            state["lt_selected"] = rows.tolist()
            if len(rows) == 1:
                state["lt_item"] = str(items["item_id"].iloc[rows[0]])
            st.rerun()
    if len(selected):
        st.subheader(f"{len(selected)} selected items")
        if len(selected) > MAX_LISTED:  # a box over half a 100k map would send megabytes of rows nobody reads
            st.caption(f"The {MAX_LISTED:,} most interacted-with are listed.")
        listed = selected[np.argsort(-model.counts[selected], kind="stable")[:MAX_LISTED]] \
            if len(selected) > MAX_LISTED else selected
        st.dataframe(items.iloc[listed][["item_id", "name", "brand", "category", "interactions", "bucket"]],
                     hide_index=True, height=220, key="lt_selected_table")
        if st.button("Clear selection", key="lt_clear"):
            state["lt_selected"] = []
            st.rerun()
    neighbours_section(model, items, other, selected)


def neighbours_section(model: long_tail.LongTailModel, items, other: str,  # noqa: ANN001 — DataFrame
                       selected: np.ndarray) -> None:
    """Pick an item (search, the map selection, or one clicked point): its neighbours in ALS and the other space."""
    st.subheader("Nearest neighbours")
    query = st.text_input("Search items (name, brand, category or id)", key="lt_search")
    pool = items.iloc[selected] if len(selected) and not query else items
    if query:
        text = items["item_id"] + " " + items["name"] + " " + items["brand"] + " " + items["category"]
        pool = items[text.str.contains(query, case=False, regex=False)]
    options = pool["item_id"].head(500).tolist()
    current = st.session_state.get("lt_item")
    if current and current not in options and not query and not len(selected):
        options = [current, *options]
    if not options:
        st.info("No item matches the search.")
        return
    # Labels of the offered items only: building them for all 100k items cost more than the rest of the rerun.
    shown = items.iloc[[model.position(i) for i in options]]
    labels = dict(zip(shown["item_id"], shown["name"] + " · " + shown["brand"] + " · "
                      + shown["interactions"].astype(str) + " interactions"))
    item_id = st.selectbox("Item", options, index=options.index(current) if current in options else 0,
                           format_func=lambda i: f"{labels.get(i, i)} ({i})", key="lt_item_pick")
    st.session_state["lt_item"] = item_id
    maps.product_card(items.iloc[model.position(item_id)])
    columns = st.columns(2)
    for column, space in zip(columns, ["als", other]):
        with column:
            st.markdown(f"**{maps.SPACE_LABELS[space]}**")
            found = long_tail.neighbours(model, item_id, space, k=8)
            if not found:
                st.info("No vector in this space: the item has no interactions, so ALS knows nothing about it.")
            for neighbour, score in found:
                maps.product_card(items.iloc[model.position(neighbour)], score)


def evaluation_section(model: long_tail.LongTailModel) -> None:
    """The cold-start evaluation stored with the version: per-bucket table and NDCG@10 vs interactions."""
    evaluation = model.meta.get("evaluation")
    if not evaluation:
        st.info("This version was trained without the evaluation; run `python -m core evaluate long-tail`.")
        return
    left, right = st.columns(2)
    task = left.radio("Task", ["users", "items"], horizontal=True, key="lt_task",
                      format_func=lambda t: "rank held-out users of an item" if t == "users" else "item-to-item")
    metric = right.radio("Metric", ["ndcg@10", "ap"], horizontal=True, key="lt_metric",
                         format_func=lambda m: "NDCG@10" if m == "ndcg@10" else "average precision")
    st.markdown(f"{'NDCG@10' if metric == 'ndcg@10' else 'Average precision'} per popularity bucket "
                "(head/torso/tail) and per number of known interactions (held-out items in brackets):")
    st.dataframe(maps.evaluation_frame(evaluation, task, metric).style.format("{:.3f}", na_rep="–"),
                 key="lt_eval_table")
    params, eval_k = model.params, model.meta.get("evaluation_blend_k")
    st.caption(f"Blended = w·ALS + (1−w)·predicted with w = n/(n+k): this version's k = {params.blend_k:g}"
               + (" (chosen on the encoder's validation items; k = 0 means ALS wherever an item has data)"
                  if params.fit_blend_k else "")
               + (f"; the evaluation above refitted everything on its own split and chose k = {eval_k:g}"
                  if eval_k is not None else "") + ".")
    st.plotly_chart(maps.cached_ndcg_figure(model, task), key="lt_eval_plot")


def train_section(ws, user: str) -> None:  # noqa: ANN001 — Workspace
    """Train a version as a job (ALS → encoder → evaluation → maps) and list the versions."""
    defaults = long_tail.LongTailParams()  # the page trains with the same defaults as `python -m core train long-tail`
    blocked = cannot_train(ws, long_tail.KIND)
    with st.form("lt_train", enter_to_submit=False):  # Enter in a number field must not start a job
        cols = st.columns(4)
        factors = cols[0].number_input("ALS factors", 8, 256, defaults.factors, step=8)
        epochs = cols[1].number_input("Encoder epochs", 1, 200, defaults.epochs)
        threshold = cols[2].number_input("Min interactions to train on", 1, 1000, defaults.threshold)
        encoders = cols[3].number_input("Encoders averaged", 1, 10, defaults.encoders,
                                        help="each one more training of the content encoder; the average predicts "
                                             "long-tail vectors better (1 is fastest)")
        evaluate = st.checkbox("Run the cold-start evaluation", value=True)
        submitted = st.form_submit_button("Train long-tail model", type="primary", disabled=blocked)
    if submitted:
        try:
            params = defaults.replace(factors=int(factors), epochs=int(epochs), threshold=int(threshold),
                                      encoders=int(encoders))
        except ParamsError as error:
            st.error(error.summary(), icon=":material/tune:")
        else:
            try:
                remember_job(long_tail.submit_training(ws, params, by=user, evaluate=bool(evaluate)))
            except AtelierError as error:
                show_error(error)
    info = job_panel(ws, kind=long_tail.KIND)
    if info is not None and info.finished and info.result:
        st.success(f"Version {info.result['version']} is active.")
    st.subheader("Versions")
    versions_panel(ws, long_tail.KIND)


main()
