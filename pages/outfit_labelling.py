"""Outfit labelling: stylists judge model-chosen pairs by keyboard; agreement; retrain; complete the look."""

from __future__ import annotations

import streamlit as st

from core.errors import AtelierError, ParamsError
from core.services import models, outfit_training, outfits
from ui.auth import guard
from ui import outfits as outfit_ui
from ui.context import current_user, current_workspace, show_error
from ui.jobs import cannot_train, job_panel, remember_job
from ui.versions import versions_panel


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Outfit labelling")
    st.caption("Does this pair go together? On *Label pairs* the keys are **Y** goes together · **N** does not go · "
               "**U** not sure · **Z** undo. Labels train the next complementary model.")
    try:
        ws, user = current_workspace(), current_user()
    except AtelierError as error:
        show_error(error)
        return
    # Only the open tab runs: the Y/N/U/Z shortcuts must not label an unseen pair from another tab.
    label_tab, look_tab, team_tab, model_tab = st.tabs([outfit_ui.LABEL_VIEW, "Complete the look",
                                                        "Agreement", "Model"],
                                                       key=outfit_ui.VIEW_KEY, on_change="rerun")
    if label_tab.open:
        with label_tab:
            outfit_ui.labelling_panel(ws, user)  # a fragment: a key press reruns the card alone
            outfit_ui.queue_form(ws)
    if look_tab.open:
        with look_tab:
            outfit_ui.look_panel(ws)
    if team_tab.open:
        with team_tab:
            outfit_ui.agreement_panel(ws)
    if model_tab.open:
        with model_tab:
            model_section(ws, user)


def model_section(ws, user: str) -> None:  # noqa: ANN001 — Workspace
    """Retrain with the labels so far (a job), its progress, then every version's metrics side by side."""
    st.markdown(f"Labelled pairs ready for training: **{len(outfits.labelled_pairs(ws))}** "
                "(majority of goes / does not go per pair).")
    epochs = st.number_input("Epochs", 1, 50, 10, key="retrain_epochs")
    if st.button("Retrain with labels", type="primary", key="retrain", disabled=cannot_train(ws, outfits.KIND)):
        try:
            params = outfit_training.ComplementaryParams(epochs=int(epochs))
            job_id = outfit_training.submit_training(ws, params, by=user)
        except ParamsError as error:  # a value the form lets through but the model refuses: say which
            st.error(error.summary(), icon=":material/error:")
        except AtelierError as error:
            show_error(error)
        else:
            remember_job(job_id)
    info = job_panel(ws, kind=outfits.KIND)
    if info is not None and info.finished and info.result:
        result = info.result
        decision = result.get("promotion") or {}
        live = "live" if decision.get("activated", True) else f"not made live: {decision.get('reason', '')}"
        st.success(f"New version {models.name_of(ws, outfits.KIND, result['version'])}: pair AUC "
                   f"{result['metrics']['pair_auc']:.3f}, FITB {result['metrics']['fitb_accuracy']:.3f} (labels "
                   f"used: {result['labels_used']}) — {live}")
    outfit_ui.version_comparison(ws)
    st.subheader("Versions")
    st.caption("Newest first: compare the new version's pair AUC and FITB with the previous one.")
    versions_panel(ws, outfits.KIND)


main()
