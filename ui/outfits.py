"""Widgets of the outfit labelling page: product cards, the decision buttons, agreement, complete-the-look."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.workspace import Workspace
from core.errors import AtelierError
from core.services import models as versions
from core.services import outfits
from ui import models, timing
from ui.auth import fragment_gate
from ui.context import show_error

# One key per decision; "C" and "R" are reserved by Streamlit.
DECISIONS = (("yes", "Goes together", "Y", "primary"), ("no", "Does not go", "N", "secondary"),
             ("unsure", "Not sure", "U", "secondary"))
UNDO_KEY = "Z"
VIEW_KEY, LABEL_VIEW = "outfit_view", "Label pairs"  # the page's tabs and the one that labels
PAGE = "pages/outfit_labelling.py"  # checked again on the card's own reruns (ui.auth.fragment_gate)
_UPCOMING = "outfit_upcoming"  # (workspace, stylist, PairView) leased by the last decision's transaction


def _labelling_open() -> bool:
    """False while another tab is open: a key pressed just after switching tabs can still reach the old tab's
    button before its rerun removed it, and must not label a pair nobody is looking at."""
    return st.session_state.get(VIEW_KEY, LABEL_VIEW) == LABEL_VIEW


def active_model(ws: Workspace):  # noqa: ANN201 — ComplementaryModel (torch imported lazily)
    """The active complementary model (cached per version: a retrain changes the version, so the key)."""
    return models.active_model(ws, outfits.KIND, outfits.load_model)


def product_card(item: dict, score: float | None = None) -> None:
    """A bordered card: image (when the URL or file is there), name, brand, category, colour, price."""
    with st.container(border=True):
        image = str(item.get("image_url") or "")
        if image.startswith(("http://", "https://")) or (image and Path(image).is_file()):
            st.image(image, width=160)
        st.markdown(f"**{item.get('name') or item.get('item_id')}**")
        facts = [("Brand", item.get("brand")), ("Category", item.get("category")),
                 ("Group", item.get("category_group")), ("Division", item.get("division")),
                 ("Colour", item.get("colour")),
                 ("Price", f"{item['price']:.2f}" if isinstance(item.get("price"), (int, float))
                  and pd.notna(item.get("price")) else None)]
        st.caption(" · ".join(f"{k}: {v}" for k, v in facts if _shown(v)))
        st.caption(f"id `{item.get('item_id')}`" + (f" · score {score:.2f}" if score is not None else ""))


def _shown(value: object) -> bool:
    return value is not None and not (isinstance(value, float)
                                      and pd.isna(value)) and str(value) not in ("", "nan", "<NA>")


def _decide(ws: Workspace, pair_id: int, labeller: str, label: str, request_id: str) -> None:
    """Button callback: the label is written before the card reruns, and the same transaction leases the next pair,
    which the card then draws without another query."""
    if not _labelling_open():
        return
    timing.decision_started("outfit_label")
    try:
        written, upcoming = outfits.label_and_claim_next(ws, pair_id, labeller, label, request_id)
    except AtelierError as error:
        st.session_state["outfit_flash"] = ("error", str(error))
        return
    if upcoming is not None:
        st.session_state[_UPCOMING] = (ws.name, labeller, upcoming)
    st.session_state["outfit_flash"] = (("success", f"Saved pair {pair_id}: {outfits.LABEL_TEXT[label]}") if written
                                        else ("info", f"Pair {pair_id} was already saved"))
    st.session_state.pop("outfit_request", None)


def _undo(ws: Workspace, labeller: str) -> None:
    if not _labelling_open():
        return
    timing.decision_started("outfit_undo")
    st.session_state.pop(_UPCOMING, None)  # the undone pair is the one to show again, not the next
    pair_id = outfits.undo_last_label(ws, labeller)
    st.session_state["outfit_flash"] = ("info", "Undone: the pair is back") if pair_id else ("info", "Nothing to undo")
    st.session_state.pop("outfit_request", None)


def request_id_for(pair_id: int) -> str:
    """The request id of the form now shown, made once when the pair is first rendered."""
    current = st.session_state.get("outfit_request")
    if not current or current[0] != pair_id:
        current = (pair_id, outfits.new_request_id())
        st.session_state["outfit_request"] = current
    return current[1]


def _upcoming(ws: Workspace, labeller: str) -> outfits.PairView | None:
    """The pair the last decision's own transaction leased to this stylist, if there is one (used once)."""
    found = st.session_state.pop(_UPCOMING, None)
    if found is None or found[:2] != (ws.name, labeller):
        return None
    return found[2]


@st.fragment
def labelling_panel(ws: Workspace, labeller: str) -> None:
    """Today's counter, the pair leased to this stylist with both cards, and the keyboard-driven buttons.

    A fragment: a key press reruns this card only, not the page, the sidebar and the app around it."""
    try:
        if fragment_gate(PAGE) is None:
            return
        _labelling_card(ws, labeller)
    except AtelierError as error:
        show_error(error)
    timing.card_drawn()


def _labelling_card(ws: Workspace, labeller: str) -> None:
    flash = st.session_state.pop("outfit_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    else:  # keeps the message's place: the first key's message then moves nothing below it
        st.empty()
    view = _upcoming(ws, labeller) or outfits.claim_pair(ws, labeller) or _first_batch(ws, labeller)
    status = outfits.labelling_status(ws, labeller)
    left, mid, right = st.columns(3)
    left.metric("Your labels today", status.today)
    mid.metric("Your labels in all", status.total)
    right.metric("Pairs waiting", status.waiting)
    if view is None:
        st.info(_empty_queue_message(ws, labeller))
        undo_button(ws, labeller)
        return
    st.caption(f"Pair {view.pair_id} · {view.reason} · lease until {view.claim_expires_at:%H:%M} UTC")
    a, b = st.columns(2)
    with a:
        product_card(view.item_a)
    with b:
        product_card(view.item_b)
    rid = request_id_for(view.pair_id)
    cols = st.columns(4)
    for col, (label, text, key, kind) in zip(cols, DECISIONS):
        col.button(text, key=f"decide_{label}", type=kind, shortcut=key, width="stretch",
                   on_click=_decide, args=(ws, view.pair_id, labeller, label, rid))
    with cols[3]:
        undo_button(ws, labeller)


def _first_batch(ws: Workspace, labeller: str) -> outfits.PairView | None:
    """Queue a first batch once per session when nothing waits for this stylist, say so, and lease them a pair."""
    # Opening on an empty screen that waits for "Queue pairs" wasted the stylist's first minute; once per session
    # so that someone who has labelled everything is not handed an endless stream they did not ask for.
    if st.session_state.get("outfit_auto_queued"):
        return None
    st.session_state["outfit_auto_queued"] = True
    added = outfits.start_queue(ws, labeller, model=active_model(ws))
    if not added:
        return None
    how = ("that the model is least sure about" if versions.active_version(ws, outfits.KIND) is not None
           else "across categories, at random until a model is trained")
    st.info(f"Nothing was waiting for you, so {added} pairs {how} were queued to start with. Queue more below.")
    return outfits.claim_pair(ws, labeller)


def _empty_queue_message(ws: Workspace, labeller: str) -> str:
    """Why there is nothing to label, and what to do about it."""
    if outfits.remaining_for(ws, labeller):
        return ("The pairs still waiting are being labelled by other stylists right now; one comes back to the "
                f"queue if its {int(outfits.DEFAULT_LEASE.total_seconds() // 60)}-minute lease runs out. Or queue "
                "more below.")
    if versions.active_version(ws, outfits.KIND) is None:
        return ("No pair is waiting for you. Queue pairs below: random pairs across categories until a model is "
                "trained (Model tab), then the pairs the model is least sure about.")
    return "No pair is waiting for you. Queue more pairs, chosen by the model, below."


def undo_button(ws: Workspace, labeller: str) -> None:
    st.button("Undo last", key="undo_last", shortcut=UNDO_KEY, width="stretch", on_click=_undo, args=(ws, labeller))


def queue_form(ws: Workspace) -> None:
    """Queue more pairs chosen by the active model (random cross-category pairs until one is trained)."""
    with st.form("queue_more", border=True, enter_to_submit=False):  # Enter must not queue pairs
        st.markdown("**Queue more pairs**")
        c1, c2, c3 = st.columns(3)
        n = c1.number_input("Pairs", 10, 5000, 100, step=10)
        share = c2.slider("Share of confident pairs (to check)", 0.0, 1.0, 0.2, 0.05)
        k = c3.number_input("Stylists per pair (k > 1 measures agreement)", 1, 5, 1)
        if st.form_submit_button("Queue pairs"):
            try:
                added = outfits.propose_candidates(ws, int(n), float(share), int(k), model=active_model(ws))
            except AtelierError as error:
                st.error(str(error))
            else:  # rerun so the labelling panel above picks up the new pairs
                st.session_state["outfit_flash"] = ("success", f"{added} new pairs queued")
                st.rerun()


COMPARED = (("pair_auc", "Pair AUC", "{:.3f}"), ("fitb_accuracy", "FITB accuracy", "{:.3f}"),
            ("outfit_auc", "Outfit AUC", "{:.3f}"), ("prior_pair_auc", "Prior's pair AUC", "{:.3f}"),
            ("labels_used", "Labels used", "{:.0f}"))


def version_comparison(ws: Workspace) -> None:
    """The newest version's held-out metrics against the previous version's, as deltas a stylist reads at once
    (the full versions table is wide and puts the metrics off screen)."""
    table = versions.list_versions(ws, outfits.KIND)
    if table.empty:
        return
    new = table.iloc[0]
    old = table.iloc[1] if len(table) > 1 else None
    live = "live" if bool(new["active"]) else "not live: see Versions below"
    st.markdown(f"**Newest version** {new['name']} ({live})"
                + (f" against the previous {old['name']}" if old is not None else
                   " (the first one: nothing to compare with yet)"))
    for col, (key, label, fmt) in zip(st.columns(len(COMPARED)), COMPARED):
        value = new.get(key)
        if value is None or pd.isna(value):
            col.metric(label, "—")
            continue
        before = None if old is None else old.get(key)
        delta = None if before is None or pd.isna(before) else (fmt.replace("{:", "{:+")).format(value - before)
        col.metric(label, fmt.format(value), delta,
                   delta_color="off" if key in ("labels_used", "prior_pair_auc") else "normal")


def agreement_panel(ws: Workspace) -> None:
    """Fleiss' kappa over pairs with several labels, Cohen's kappa per two stylists, per-stylist counts."""
    agree = outfits.agreement(ws)
    c1, c2 = st.columns(2)
    c1.metric("Pairs labelled by several stylists", agree["pairs"])
    kappa = agree["fleiss_kappa"]
    c2.metric("Fleiss' kappa", "—" if pd.isna(kappa) else f"{kappa:.2f}",
              help="1 = full agreement, 0 = what chance gives; queue pairs with k > 1 to measure it")
    if not agree["cohen"].empty:
        st.dataframe(agree["cohen"], hide_index=True,
                     column_config={"kappa": st.column_config.NumberColumn(format="%.2f")})
    st.dataframe(outfits.labeller_counts(ws), hide_index=True)


def look_panel(ws: Workspace) -> None:
    """Pick an item; see the best items of each other category and the score of the resulting outfit."""
    model = active_model(ws)
    if model is None:
        st.info("Train the complementary model first (Model tab) to complete looks.")
        return
    slots = sorted(set(model.feats.slots.astype(str)))
    c1, c2 = st.columns([1, 2])
    slot = c1.selectbox("Category", slots, key="look_slot")
    rows = [i for i, s in enumerate(model.feats.slots) if s == slot][:3000]
    names = _names(ws)
    item = c2.selectbox("Item", [str(model.feats.item_ids[i]) for i in rows], key="look_item",
                        format_func=lambda i: f"{names.get(i, '')} ({i})")
    per = st.slider("Items per category", 1, 6, 3, key="look_per")
    if item is None:
        return
    try:
        frame, score = outfits.complete_the_look(ws, item, per, model=model)
    except AtelierError as error:
        st.error(str(error))
        return
    anchor, looks = st.columns([1, 3])
    with anchor:
        st.markdown("**The item**")
        product_card(outfits.item_card(ws, item))
        st.metric("Outfit score (item + each category's best)", f"{score:.2f}")
    with looks:
        for group, rows_ in frame.groupby("slot", sort=True):
            st.markdown(f"**{group}** · goes with it")
            for col, rec in zip(st.columns(per), rows_.to_dict("records")):
                with col:
                    product_card(rec, rec["score"])


@st.cache_data(max_entries=4)
def _names_for(ws_path: str, mtime: float) -> dict[str, str]:
    cat = Workspace.open(ws_path).catalogue()
    name = cat["name"] if "name" in cat.columns else cat["item_id"]
    return dict(zip(cat["item_id"].astype(str), name.astype(str)))


def _names(ws: Workspace) -> dict[str, str]:
    path = ws.path / "catalogue.parquet"
    return _names_for(str(ws.path), path.stat().st_mtime if path.exists() else 0.0)
