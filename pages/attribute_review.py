"""Attribute review: model quality per attribute, then merchandisers fill missing values and fix suspected errors."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from core.errors import AtelierError, ParamsError
from core.services import attribute_training
from core.services import attributes as svc
from ui.auth import guard
from ui import attributes as attr_ui
from ui.context import current_user, current_workspace, show_error
from ui.jobs import cannot_train, job_panel, remember_job
from ui.versions import versions_panel


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Attribute review")
    st.caption("A multi-task model predicts every attribute from name, description, brand, type, division and price. "
               "Accept or correct its predictions where the catalogue has no value or a suspect one; every decision "
               "is stored at once and becomes a training label. In the *Review queue* the keys are **A** accept · "
               "**E** correct · **K** catalogue is right (suspects) · **S** skip · **Z** undo your latest decision.")
    try:
        ws, user = current_workspace(), current_user()
        active = attr_ui.active_model(ws)
    except AtelierError as error:
        show_error(error)
        return
    if active is None:
        st.info("No attribute model yet: train one on the **Model** tab below (about a minute on the demo); "
                "the review queue and bulk accept appear once it is done.")
    else:
        attr_ui.quality_panel(ws, active)
        attr_ui.finder_report_panel(active)
    # Only the open tab runs: the queue's A/E/S/Z keys must not decide an item from another tab.
    review, bulk, decisions, export, model = st.tabs([attr_ui.QUEUE_VIEW, "Bulk accept", "Decisions", "Export",
                                                      "Model"], key=attr_ui.VIEW_KEY, on_change="rerun")
    if review.open:
        with review:
            _needs_model(active, "The review queue", attr_ui.queue_panel, ws, user)
    if bulk.open:
        with bulk:
            _needs_model(active, "Bulk accept", attr_ui.bulk_panel, ws, user)
    if decisions.open:
        with decisions:
            _guarded(attr_ui.decisions_panel, ws, user)
    if export.open:
        with export:
            attr_ui.export_panel(ws, user)
    if model.open:
        with model:
            model_section(ws, user)


def _needs_model(active: svc.ActiveModel | None, what: str, panel: Callable[..., None], ws: object,
                 user: str) -> None:
    if active is None:
        st.info(f"{what} needs a trained model: train one on the Model tab.")
        return
    _guarded(panel, ws, active, user)


def _guarded(panel: Callable[..., None], *args: object) -> None:
    try:
        panel(*args)
    except AtelierError as error:
        show_error(error)


def model_section(ws, user: str) -> None:  # noqa: ANN001 — Workspace
    """Train with the reviewed labels (a job), follow it, then every version's metrics side by side."""
    reviewed = len(svc.decided_values(ws))
    st.markdown(f"Reviewed values that will override the catalogue in training: **{reviewed}**.")
    c1, c2 = st.columns(2)
    epochs = c1.number_input("Epochs", 1, 30, 6, key="attr_epochs")
    mode = c2.selectbox("Missing labels", ["masked", "tasks"], key="attr_mode",
                        help="masked: one joint loss over the labels present · tasks: one dataset per attribute, "
                             "visited in random order (ASOS)")
    if st.button("Train attribute model", type="primary", key="attr_train", disabled=cannot_train(ws, svc.KIND)):
        try:
            params = attribute_training.AttributeParams(epochs=int(epochs), mode=mode)
            job_id = attribute_training.submit_training(ws, params, by=user)
        except ParamsError as error:  # a value the form lets through but the model refuses: say which
            st.error(error.summary(), icon=":material/error:")
        except AtelierError as error:
            show_error(error)
        else:
            remember_job(job_id)
    info = job_panel(ws, kind=svc.KIND)
    if info is not None and info.finished and info.result:
        average = info.result.get("average", {})
        st.success(f"Version {info.result['version']}: average weighted F1 {average.get('weighted_f1', 0):.3f} "
                   f"(TF-IDF + LR {average.get('baseline_f1', 0):.3f})")
    st.subheader("Versions")
    versions_panel(ws, svc.KIND)


main()
