"""Campaign audience: pick brands, size and exclusions; see the exact audience live; save, export, measure lift."""

from __future__ import annotations

import streamlit as st

from core.errors import AtelierError
from ui import audience_charts as charts
from ui import campaign_panels as campaign_ui
from ui.auth import fragment_gate, guard
from ui.context import current_user, current_workspace, show_error

PAGE = "pages/campaign_audience.py"  # checked again on each fragment's own reruns (ui.auth.fragment_gate)


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Campaign audience")
    st.caption("Who should hear about a brand? Customers ranked by brand affinity, minus everyone who must not be "
               "contacted. The size below is exact and updates as you change anything.")
    try:
        ws, user = current_workspace(), current_user()
        model, version = charts.active_model(ws)
        data = charts.audience_data(ws, version)
    except AtelierError as error:
        show_error(error)
        return
    charts.url_defaults({"brand": [], "blend": "any", "rule": "top_n", "value": None, "control": 10.0,
                         "seed": 42, "campaign": None})
    audience_section(ws, user, model, version, data)
    st.divider()
    saved_campaigns(ws, user)


@st.fragment
def audience_section(ws, user: str, model, version: str, data) -> None:  # noqa: ANN001 — Workspace, model, ...
    """The form, the live audience and Save. A fragment: a change of its widgets reruns only this part, not the
    app's sidebar or the saved campaigns below (a save reruns the whole app, so the list below shows it)."""
    if fragment_gate(PAGE) is None:  # its own reruns skip the app's sign-in gate: bind the person again
        return
    spec = campaign_ui.audience_form(charts.brand_options(str(ws.path), version))
    if spec is None:
        st.info("Pick one or more brands to build an audience.")
        return
    editing = campaign_ui.editing_campaign(spec)
    try:
        audience = charts.build_audience(ws, spec, model, version, data, exclude_id=editing)
    except AtelierError as error:
        show_error(error)
    else:
        campaign_ui.show_audience(ws, model, audience, editing)
        campaign_ui.save_form(ws, user, audience, version)


@st.fragment
def saved_campaigns(ws, user: str) -> None:  # noqa: ANN001
    """Pick a saved campaign (its id is in the URL): export it, upload outcomes, see lift. A fragment, so picking
    one or uploading outcomes leaves the audience above as it is."""
    if fragment_gate(PAGE) is None:
        return
    campaign_ui.saved_campaign_panel(ws, user)


main()
