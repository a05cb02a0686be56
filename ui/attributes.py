"""Attribute review widgets: model quality, review queue cards, bulk accept, decisions with undo, export, confusion
figure."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.workspace import Workspace
from core.errors import AtelierError, StaleEditError
from core.services import attributes as svc
from core.services import models as model_versions
from core.services.queue_ahead import QueueAhead
from ui import models, timing
from ui.auth import fragment_gate, fragment_rerun, signed_in_only
from ui.context import show_error
from ui.theme import SEQUENTIAL

MESSAGE_KEY = "attr_message"
# Keys of the first card in the queue ("C" and "R" are reserved by Streamlit): as on the outfit labelling page;
# K keeps a suspect's catalogue value.
KEYS = {"accept": "A", "correct": "E", "confirm": "K", "skip": "S", "undo": "Z"}
VIEW_KEY, QUEUE_VIEW = "attr_view", "Review queue"  # the page's tabs and the one whose keys decide
PAGE = "pages/attribute_review.py"  # checked again on the queue's own reruns (ui.auth.fragment_gate)
_AHEAD = "attr_queue_ahead"  # (queue filters, QueueAhead) of the queue now shown
KEYS_HELP = (f"Keys act on the first card: **{KEYS['accept']}** accept · **{KEYS['correct']}** correct to the value "
             f"picked · **{KEYS['confirm']}** catalogue is right (suspects) · **{KEYS['skip']}** skip · "
             f"**{KEYS['undo']}** undo your latest decision")


def _queue_open() -> bool:
    """False while another tab is open: a key pressed just after switching tabs can still reach the queue's button
    before its rerun removed it, and must not decide an item nobody is looking at."""
    return st.session_state.get(VIEW_KEY, QUEUE_VIEW) == QUEUE_VIEW


def active_model(ws: Workspace) -> svc.ActiveModel | None:
    """The active attribute model (cached per version, so a retrain or activation shows at once)."""
    return models.active_model(ws, svc.KIND, svc.load_active)


def confusion_figure(confusion: dict, normalise: bool = True) -> go.Figure:
    """Heat map of true (rows) vs predicted (columns); rows normalised to shares when `normalise`."""
    matrix = np.asarray(confusion["matrix"], dtype=float)
    labels = confusion["labels"]
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalise else matrix
    figure = go.Figure(go.Heatmap(z=shown, x=labels, y=labels, colorscale=SEQUENTIAL, hovertemplate=
                                  "true %{y}<br>predicted %{x}<br>%{z:.2f}<extra></extra>"))
    figure.update_layout(xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed", height=480,
                         margin=dict(l=10, r=10, t=10, b=10))
    return figure


def quality_panel(ws: Workspace, active: svc.ActiveModel) -> None:
    """Table 2 of the active version beside the human acceptance rate; a confusion matrix on demand."""
    table = svc.quality_table(active)
    average = active.meta.get("average", {})
    name = model_versions.name_of(ws, svc.KIND, active.version)
    if table.empty:
        st.info(f"Model {name} was trained without a held-out evaluation, so it has no quality table: "
                "train again from the Model tab to see how good it is per attribute.")
        return
    if "baseline_f1" in table:
        table.insert(table.columns.get_loc("baseline_f1") + 1, "beats", table["weighted_f1"] > table["baseline_f1"])
    accept = svc.acceptance(ws, active)
    judged = (accept["accepted"] + accept["corrected"]).rename("reviews") if not accept.empty else None
    table = table.merge(pd.DataFrame({"attribute": accept["attribute"], "reviews": judged,
                                      "acceptance_rate": 100 * accept["acceptance_rate"]}) if judged is not None else
                        pd.DataFrame(columns=["attribute", "reviews", "acceptance_rate"]), on="attribute", how="left")
    table["reviews"] = table["reviews"].fillna(0).astype(int)  # not reviewed yet is 0 reviews, not "None"
    # A number column shows a missing rate as "None": with no reviews yet there is no rate to show, so say so.
    table["acceptance_rate"] = [f"{rate:.0f}" if pd.notna(rate) else "—" for rate in table["acceptance_rate"]]
    against = (f" vs TF-IDF + logistic regression {average['baseline_f1']:.3f} (better on "
               f"{average.get('beats_baseline', '?')} "
               f"of {average.get('attributes', len(table))})" if "baseline_f1" in average else "")
    served = ("serves the hybrid: w · network + (1 - w) · TF-IDF + LR per attribute, w chosen on an inner split of "
              "the training items · " if "blend_weight" in table else "")
    st.caption(f"{name} · {served}held-out split ({int(100 * active.meta.get('test_fraction', 0.2))}% of "
               "items) · "
               f"average weighted F1 {average.get('weighted_f1', float('nan')):.3f}{against} · "
               f"reviewed labels used in training: {active.meta.get('labels_from_reviews', 0)} · "
               "accept %: share of reviewed predictions accepted unchanged (the human-checked accuracy)")
    # Held-out count and baseline accuracy stay in the CLI table: on the page they pushed the review columns out of
    # view.
    shown = [c for c in table.columns if c not in ("test_samples", "baseline_accuracy")]
    st.dataframe(table, hide_index=True, key="attr_quality", width="stretch", column_order=shown, column_config={
        "samples": st.column_config.NumberColumn("#samples", help="labelled items (train + held-out)"),
        "test_samples": st.column_config.NumberColumn("#held-out",
                                                      help="labelled items the model never saw, scored here"),
        "classes": st.column_config.NumberColumn("#classes"),
        "weighted_f1": st.column_config.NumberColumn("wF1", format="%.3f", help="weighted F1 on the held-out items"),
        "accuracy": st.column_config.NumberColumn("acc %", format="%.1f"),
        "majority_accuracy": st.column_config.NumberColumn("majority %", format="%.1f",
                                                           help="accuracy of always predicting the commonest value"),
        "baseline_f1": st.column_config.NumberColumn("TF-IDF wF1", format="%.3f",
                                                     help="TF-IDF + logistic regression on name and description"),
        "baseline_accuracy": st.column_config.NumberColumn("TF-IDF acc %", format="%.1f"),
        "beats": st.column_config.CheckboxColumn("> TF-IDF", help="model weighted F1 above the TF-IDF baseline"),
        "network_f1": st.column_config.NumberColumn("network wF1", format="%.3f",
                                                    help="the multi-task network alone, without the linear half"),
        "blend_weight": st.column_config.NumberColumn("w", format="%.1f", help="the network's share of the served "
                                                      "probabilities (1: network only, 0: TF-IDF + LR only)"),
        "reviews": st.column_config.NumberColumn("reviews", help="predictions accepted or corrected by reviewers"),
        "acceptance_rate": st.column_config.TextColumn("accept %", help="reviewed predictions accepted unchanged "
                                                       "(— until someone has reviewed this attribute)")})
    confusion = active.meta.get("confusion", {})
    if confusion:
        confusion_panel(confusion)


@st.fragment
def confusion_panel(confusion: dict) -> None:
    """The confusion toggle, its attribute and figure: a fragment, so showing a matrix reruns only this."""
    if st.toggle("Show a confusion matrix", key="attr_show_confusion"):
        name = st.selectbox("Attribute", list(confusion), key="attr_confusion_attribute")
        st.plotly_chart(confusion_figure(confusion[name]), key="attr_confusion_figure")


def _request_id(item_id: str, attribute: str, version: int, action: str) -> str:
    """One id per rendered decision (kept in session state), so a double click or a rerun writes once."""
    key = f"attr_req_{item_id}_{attribute}_{version}_{action}"
    if key not in st.session_state:
        st.session_state[key] = uuid.uuid4().hex
    return st.session_state[key]


def _decide(ws: Workspace, row: dict, attribute: str, decision: str, user: str, model_version: str,
            value_key: str | None = None) -> None:
    """Button callback: store the decision at once; tell the reviewer when someone else changed the item."""
    if not _queue_open():
        return
    timing.decision_started(f"attribute_{decision}")
    # The picked value is read when the button is pressed, not when the card was drawn: a reviewer who picks a
    # value and clicks Correct before the page has re-run would otherwise store the value shown before the pick.
    chosen = {"accept": row["predicted"], "confirm": row["current"]}.get(decision) if value_key is None else \
        st.session_state.get(value_key)
    try:
        svc.decide(ws, row["item_id"], attribute, decision, chosen, user,
                   _request_id(row["item_id"], attribute, row["version"], decision), seen_version=int(row["version"]),
                   predicted=row["predicted"], probability=float(row["probability"]), model_version=model_version)
    except StaleEditError as error:
        _ahead_decided(row["item_id"])  # someone else decided it: it leaves this queue too
        st.session_state[MESSAGE_KEY] = ("warning", str(error))
    except AtelierError as error:
        st.session_state[MESSAGE_KEY] = ("error", str(error))
    else:
        _ahead_decided(row["item_id"])
        verb = {"accept": "accepted", "correct": "set", "confirm": "kept as catalogued", "skip": "skipped"}[decision]
        st.session_state[MESSAGE_KEY] = ("success", f"{row['item_id']}: {attribute} {verb}"
                                         + (f" = {chosen}" if chosen and decision != "skip" else ""))


def show_message() -> None:
    """The last decision's outcome; an empty place without one, so the first message does not move every card."""
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        getattr(st, message[0])(message[1])
    else:
        st.empty()


def image_source(url: object, root: Path | None = None) -> str | None:
    """What st.image can show for a catalogue image_url: an http(s) URL, or an existing file (relative paths from
    the workspace folder); None when there is nothing to show."""
    if not isinstance(url, str) or not url.strip():
        return None
    if url.startswith(("http://", "https://")):
        return url
    path = Path(url) if Path(url).is_absolute() or root is None else Path(root) / url
    return str(path) if path.is_file() else None


def product_card(row: dict, root: Path | None = None) -> None:
    """Name, brand · type, description excerpt, image (if the catalogue has a URL or a file)."""
    source = image_source(row.get("image_url"), root)
    if source is not None:
        left, right = st.columns([1, 4])
        left.image(source, width=110)
    else:  # no picture: the text gets the whole card instead of sitting beside an empty column
        right = st.container()
    right.markdown(f"**{row.get('name') or row['item_id']}**  \n{row.get('brand') or '—'} · "
                   f"{row.get('category') or '—'}"
                   f" · `{row['item_id']}`")
    text = row.get("description")
    if isinstance(text, str) and text:
        right.caption(text[:220] + ("…" if len(text) > 220 else ""))


def _undo_latest(ws: Workspace, user: str, attribute: str, request_id: str) -> None:
    """Button callback (key Z): take back this reviewer's latest decision on `attribute`, the item returns."""
    if not _queue_open():
        return
    timing.decision_started("attribute_undo")
    st.session_state.pop(_AHEAD, None)  # the undone item comes back: the queue is loaded again
    try:
        done = svc.undo_latest(ws, user, request_id, attribute)
    except AtelierError as error:
        st.session_state[MESSAGE_KEY] = ("warning", str(error))
        return
    st.session_state.pop("attr_undo_req", None)
    if done is None:
        st.session_state[MESSAGE_KEY] = ("info", f"Nothing of yours to undo for {attribute}.")
    elif not done.duplicate:
        back = f"back to {done.value}" if done.value else "back in the queue"
        st.session_state[MESSAGE_KEY] = ("info", f"Undone: {done.item_id} ({done.attribute}) is {back}.")


def _undo_request_id() -> str:
    """One id per drawn undo button: two presses before the page redraws undo once."""
    return st.session_state.setdefault("attr_undo_req", uuid.uuid4().hex)


@st.fragment
def queue_panel(ws: Workspace, active: svc.ActiveModel, user: str) -> None:
    """The review queue of one attribute: cards with accept / correct / skip; the first card answers to keys.

    A fragment: a decision reruns the queue alone, not the page, and the next card comes from rows loaded ahead."""
    try:
        if fragment_gate(PAGE) is None:
            return
        if fragment_rerun():  # a retrain or an activation meanwhile: decide against the version now live
            active = active_model(ws) or active
        _queue(ws, active, user)
    except AtelierError as error:
        show_error(error)
    timing.card_drawn()


def _queue(ws: Workspace, active: svc.ActiveModel, user: str) -> None:
    show_message()
    c1, c2, c3, c4 = st.columns(4)
    attribute = c1.selectbox("Attribute", active.attributes(), key="attr_attribute")
    which = c2.radio("Items", ["missing", "suspect", "all"], horizontal=True, key="attr_which",
                     help="missing: no catalogue value · suspect: a catalogue value the error finder disputes (a "
                          "model that never saw the value prefers another) · all: both")
    order = c3.radio("Order", ["confidence", "uncertainty"], horizontal=True, key="attr_order",
                     disabled=which == "suspect", help="suspects always come most suspicious first")
    limit = c4.number_input("Rows", 1, 100, 10, key="attr_limit")
    sensitivity = svc.DEFAULT_CUTOFF
    if which != "missing" and active.suspects() is not None:
        sensitivity = finder_controls(active, attribute)
    window = _ahead(ws, active, attribute, which, order, int(limit), sensitivity).window()
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(KEYS_HELP)
    right.button("Undo my last", key="attr_undo_last", shortcut=KEYS["undo"], width="stretch",
                 help=f"Take back your latest decision on {attribute}: the item comes back to the queue",
                 on_click=_undo_latest, args=(ws, user, attribute, _undo_request_id()))
    if not any(window):
        st.info(f"Nothing to review for {attribute} ({which}).")
        return
    values = svc.class_values(active, attribute)
    first = True
    for row in window:
        if row is None:  # decided since the queue was loaded: its place stays, empty, so the cards below keep
            st.empty()   # theirs and the browser updates them rather than building each one again a place higher
            continue
        with st.container(border=True, key=f"card_{attribute}_{row['item_id']}"):  # the key gives tests a handle
            _card(ws, active, row, attribute, values, user, keys=first)
        first = False


def _ahead(ws: Workspace, active: svc.ActiveModel, attribute: str, which: str, order: str, limit: int,
           sensitivity: float) -> QueueAhead:
    """The queue's rows, loaded ahead: kept across this queue's own reruns (a decision drops its row, no query),
    loaded afresh on every full run (another tab, a bulk accept, a reload) and whenever a filter changes."""
    key = (ws.name, active.version, attribute, which, order, limit, sensitivity)
    held = st.session_state.get(_AHEAD)
    if held is not None and held[0] == key and fragment_rerun():
        return held[1]
    ahead = QueueAhead(lambda n: svc.review_queue(ws, active, attribute, which, order, n, sensitivity=sensitivity),
                       shown=limit)
    st.session_state[_AHEAD] = (key, ahead)
    return ahead


def _ahead_decided(item_id: str) -> None:
    held = st.session_state.get(_AHEAD)
    if held is not None:
        held[1].decided(item_id)


def finder_controls(active: svc.ActiveModel, attribute: str) -> float:
    """The error finder's sensitivity slider, how many suspects it gives, and (on a demo) how good it is."""
    left, right = st.columns([2, 3], vertical_alignment="center")
    sensitivity = left.slider(
        "Error-finder sensitivity", 0.02, 1.0, float(svc.DEFAULT_CUTOFF), 0.01, key="attr_sensitivity",
        help="How little confidence the out-of-fold model may have in the catalogue value, relative to the usual "
             "confidence in that value, for the item to be a suspect: lower finds fewer, surer errors; higher "
             "finds more, with more false alarms. Suspects are always listed most suspicious first.")
    found = active.suspects(attribute, sensitivity)
    right.caption(f"**{0 if found is None else len(found)}** suspect {attribute} values at this sensitivity "
                  f"({len(active.suspects(None, sensitivity))} across every attribute). " + finder_quality(active))
    return float(sensitivity)


def finder_quality(active: svc.ActiveModel) -> str:
    """One line on how many known (planted) errors the finder's top suspects hold; empty without known errors."""
    report = active.meta.get("error_finder")
    if not report:
        return ""
    total = next((r for r in report["at_top"] if r["attribute"] == "all"), report["at_top"][-1])
    return (f"On this workspace's known errors the top {report['top']} suspects find {total['found']} of "
            f"{total['planted']} (recall {100 * total['recall']:.0f}%, precision {100 * total['precision']:.0f}%); "
            "per attribute under *How good is the error finder* above.")


def finder_report_panel(active: svc.ActiveModel) -> None:
    """Recall and precision of the error finder per attribute and per sensitivity, where known errors exist."""
    report = active.meta.get("error_finder")
    if not report:
        return
    with st.expander("How good is the error finder (known errors in this workspace)"):
        st.caption(f"Against the errors planted in this workspace: the top {report['top']} suspects, then each "
                   "sensitivity. Recall: share of the known errors found · precision: share of the suspects that "
                   "are known errors.")
        percent = {c: st.column_config.NumberColumn(c, format="%.0f%%") for c in ("recall", "precision")}
        top = _as_percent(pd.DataFrame(report["at_top"]))
        st.dataframe(top, hide_index=True, key="attr_finder_top", column_config=percent,
                     column_order=["attribute", "planted", "suspects", "found", "recall", "precision"])
        cutoffs = _as_percent(pd.DataFrame(report["at_cutoff"]))
        st.dataframe(cutoffs, hide_index=True, key="attr_finder_cutoffs",
                     column_order=["cutoff", "suspects", "found", "recall", "precision"],
                     column_config={**percent, "cutoff": st.column_config.NumberColumn("sensitivity", format="%.2f"),
                                    "suspects": st.column_config.NumberColumn("suspects (all attributes)")})


def _as_percent(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{c: 100 * frame[c].astype(float) for c in ("recall", "precision") if c in frame})


def _card(ws: Workspace, active: svc.ActiveModel, row: dict, attribute: str, values: list[str], user: str,
          keys: bool) -> None:
    """One queue card; with `keys` its buttons answer to A / E / S (Streamlit draws the key on the button)."""
    product_card(row, ws.path)
    current = row["current"] if isinstance(row["current"], str) else "— (missing)"
    st.markdown(f"Catalogue: **{current}** · predicted **{row['predicted']}** ({row['probability']:.2f})"
                + (f" · alternatives: {row['alternatives']}" if row["alternatives"] else "")
                + (" · :orange[suspect]" if row["kind"] == "suspect" else ""))
    suspect = row["kind"] == "suspect"
    if suspect:
        a, b, c, d, e = st.columns([1, 2, 1, 1.4, 1], vertical_alignment="bottom")
    else:
        (a, b, c, e), d = st.columns([1, 2, 1, 1], vertical_alignment="bottom"), None
    item = row["item_id"]

    def shown(text: str, action: str) -> dict:
        return {"label": text, "shortcut": KEYS[action]} if keys else {"label": text}

    a.button(**shown("Accept", "accept"), key=f"accept_{attribute}_{item}", type="primary", on_click=_decide,
             args=(ws, row, attribute, "accept", user, active.version))
    b.selectbox("Correct value", values, key=f"pick_{attribute}_{item}",
                index=values.index(row["predicted"]) if row["predicted"] in values else 0)
    c.button(**shown("Correct", "correct"), key=f"correct_{attribute}_{item}", on_click=_decide,
             args=(ws, row, attribute, "correct", user, active.version, f"pick_{attribute}_{item}"))
    if d is not None:  # a suspect; the finder can be wrong, and keeping the value trains like any review
        d.button(**shown("Catalogue is right", "confirm"), key=f"confirm_{attribute}_{item}", on_click=_decide,
                 args=(ws, row, attribute, "confirm", user, active.version),
                 help=f"Keep '{row['current']}': recorded as a review, so the finder stops flagging it and the next "
                      "model trains on it")
    e.button(**shown("Skip", "skip"), key=f"skip_{attribute}_{item}", on_click=_decide,
             args=(ws, row, attribute, "skip", user, active.version))


def _bulk_accept(ws: Workspace, active: svc.ActiveModel, attribute: str, threshold: float, user: str, key: str,
                 which: str, seen: pd.DataFrame) -> None:
    """Button callback: accept what the preview showed; the page then redraws the preview without those items."""
    try:
        result = svc.bulk_accept(ws, active, attribute, threshold, user, st.session_state[key], which, seen=seen)
    except AtelierError as error:
        st.session_state["bulk_message"] = ("error", str(error))
        return
    st.session_state.pop(key, None)
    kind = "success" if result.written == result.shown else "warning"
    st.session_state["bulk_message"] = (kind, result.message(attribute))


def bulk_panel(ws: Workspace, active: svc.ActiveModel, user: str) -> None:
    """Bulk accept above a probability, after a preview of how many items and which values it will write."""
    message = st.session_state.pop("bulk_message", None)
    if message:  # the outcome of the last click, above the preview it refreshed
        getattr(st, message[0])(message[1])
    c1, c2, c3 = st.columns(3)
    attribute = c1.selectbox("Attribute", active.attributes(), key="bulk_attribute")
    which = c2.radio("Items", ["missing", "suspect"], horizontal=True, key="bulk_which")
    threshold = c3.slider("Minimum probability", 0.5, 1.0, 0.95, 0.01, key="bulk_threshold")
    preview = svc.bulk_preview(ws, active, attribute, threshold, which)
    st.markdown(f"**{len(preview)}** items would get a value for **{attribute}**" + (":" if len(preview) else "."))
    if preview.empty:
        best = svc.bulk_preview(ws, active, attribute, 0.0, which)
        st.caption(f"No {which} item has a prediction at {threshold:.2f} or above"
                   + (f"; the most confident is {best['probability'].max():.2f}: lower the minimum probability to "
                      "include it."
                      if not best.empty else f" and no {which} item is left to review for {attribute}."))
    else:
        st.dataframe(preview["predicted"].value_counts().rename_axis("value").reset_index(name="items"),
                     hide_index=True, key="bulk_values")
        with st.expander("Items in the preview"):
            st.dataframe(preview[["item_id", "name", "predicted", "probability", "current"]], hide_index=True)
    key = f"bulk_req_{attribute}_{which}_{threshold}"
    st.session_state.setdefault(key, uuid.uuid4().hex)
    # The preview drawn now travels with the click: what was shown is what gets accepted, and items someone else
    # decides in between are counted and named in the message rather than silently dropped.
    seen = preview[["item_id", "predicted", "probability", "version"]].copy()
    st.button(f"Accept {len(preview)} predictions", key="bulk_accept", disabled=preview.empty, type="primary",
              on_click=_bulk_accept, args=(ws, active, attribute, threshold, user, key, which, seen))


def decisions_panel(ws: Workspace, user: str) -> None:
    """Every decision (filter by attribute, reviewer, decision), with undo of the latest one per item."""
    frame = svc.reviews(ws)
    if frame.empty:
        st.info("No decisions yet.")
        return
    c1, c2, c3 = st.columns(3)
    attribute = c1.selectbox("Attribute", ["(all)"] + sorted(frame["attribute"].unique()), key="dec_attribute")
    reviewer = c2.selectbox("Reviewer", ["(all)"] + sorted(frame["reviewer"].unique()), key="dec_reviewer")
    decision = c3.selectbox("Decision", ["(all)", "accept", "correct", "skip"], key="dec_decision")
    shown = svc.reviews(ws, None if attribute == "(all)" else attribute, None if reviewer == "(all)" else reviewer,
                        None if decision == "(all)" else decision)
    st.dataframe(shown[["id", "created_at", "reviewer", "item_id", "attribute", "decision", "value", "predicted",
                        "probability", "undone"]], hide_index=True, key="dec_table")
    undoable = shown[shown["undoable"]]
    if undoable.empty:
        return
    labels = {int(r.id): f"#{r.id} {r.item_id} · {r.attribute} · {r.decision} {r.value or ''}"
              for r in undoable.itertuples()}
    choice = st.selectbox("Undo a decision (newest first)", list(labels), index=0, format_func=labels.get,
                          key="dec_undo_choice")
    if st.button("Undo", key="dec_undo"):
        key = f"undo_req_{choice}"
        st.session_state.setdefault(key, uuid.uuid4().hex)
        try:
            svc.undo(ws, int(choice), user, st.session_state[key])
        except AtelierError as error:
            st.warning(str(error))
        else:
            st.success(f"Decision #{choice} undone.")


def export_panel(ws: Workspace, user: str) -> None:
    """Download the consolidated catalogue (original + accepted values, with their source), built on click."""
    st.caption("Original catalogue plus every accepted or corrected value; a source_<attribute> column says where each "
               "value comes from. Cells a spreadsheet would run as formulas are escaped.")
    st.download_button("Download consolidated catalogue (CSV)",
                       data=signed_in_only(lambda: svc.export_catalogue(ws, user)),
                       file_name=f"{ws.name}_catalogue_reviewed.csv", mime="text/csv", key="attr_export")
