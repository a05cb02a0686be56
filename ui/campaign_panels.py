"""Campaign audience widgets: the audience form, the live audience, save, saved campaigns with export and lift."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import streamlit as st

from core.errors import AtelierError
from core.services import campaigns, exports
from core.services import models as model_versions
from core.services.audience import AudienceSpec, Exclusions, overlap, overlap_matrix, preview
from ui import audience_charts as charts
from ui.auth import signed_in_only
from ui.context import show_error

RULES = {"top_n": "Top N customers", "top_percent": "Top % of customers", "min_score": "Minimum score"}
DEFAULT_VALUE = {"top_n": 1000.0, "top_percent": 5.0, "min_score": 0.0}
FORMATS = {"top_n": "%.0f", "top_percent": "%.1f", "min_score": "%.4f"}


def audience_form(brands: list[str]) -> AudienceSpec | None:
    """The widgets; returns the spec (and writes the shareable part to the URL), or None without a brand."""
    s = st.session_state
    s["aud_brand"] = [b for b in s.get("aud_brand", []) if b in brands]  # a stale link's unknown brands drop out
    chosen = st.multiselect("Brands (type to search)", brands, key="aud_brand")
    left, right = st.columns(2)
    blend, weights = "any", None
    if len(chosen) > 1:
        blend = left.radio("Several brands", ["any", "weighted"], key="aud_blend", horizontal=True,
                           format_func={"any": "Any of them (best score)", "weighted": "Weighted blend"}.get)
        if blend == "weighted":
            weights = tuple(left.number_input(f"Weight of {b}", 0.0, 100.0, 1.0, key=f"aud_w_{b}") for b in chosen)
    rule = right.radio("Size by", list(RULES), key="aud_rule", format_func=RULES.get, horizontal=True)
    value_key = f"aud_v_{rule}"
    if value_key not in s:
        s[value_key] = float(s.get("aud_value") or DEFAULT_VALUE[rule])
    value = right.number_input(RULES[rule], min_value=1.0 if rule == "top_n" else None,
                               max_value=100.0 if rule == "top_percent" else None,
                               step=1.0 if rule == "top_n" else 0.1, key=value_key, format=FORMATS[rule])
    with st.expander("Exclusions and control group", expanded=True):
        a, b, c = st.columns(3)
        suppressed = a.checkbox("Exclude suppressed", True, key="aud_supp",
                                help="Unsubscribed, bounced and test accounts (from the customers file). Exports "
                                     "always remove them again, whatever this box says.")
        bought = b.number_input("Leave out who bought the brand in the last N days (0 = keep)", 0, 3650, 0,
                                key="aud_bought")
        cap = c.number_input("Leave out who is in another campaign of the last N days (0 = off)", 0, 365, 0,
                             key="aud_cap")
        min_activity = a.number_input("Minimum interactions", 0, 10_000, 0, key="aud_minact")
        control = b.slider("Control group (% held out, not contacted)", 0.0, 50.0, key="aud_control", step=1.0)
        seed = c.number_input("Control group seed", 0, 2**31 - 1, key="aud_seed")
    charts.write_url({"brand": chosen, "blend": blend if len(chosen) > 1 else None, "rule": rule, "value": value,
                      "control": control, "seed": seed})
    if not chosen:
        return None
    try:
        return AudienceSpec(tuple(chosen), blend=blend, weights=weights, rule=rule, value=value,
                            control_percent=control, seed=int(seed),
                            exclusions=Exclusions(suppressed=suppressed, bought_brand_within_days=bought or None,
                                                  frequency_cap_days=cap or None, min_activity=int(min_activity)))
    except AtelierError as error:
        show_error(error)
        return None


def editing_campaign(spec: AudienceSpec) -> int | None:
    """The id of the campaign this form saved while its brands stay the same (None once they change).

    The audience on screen then *is* that campaign: the frequency cap and the overlap must not count its own
    members against it (they did, and the cap's exclusions jumped by the campaign's size after Save).
    """
    saved = st.session_state.get("aud_editing")
    if not saved or tuple(saved["brands"]) != tuple(spec.brands):
        st.session_state.pop("aud_editing", None)
        return None
    st.caption(f"Editing saved campaign “{saved['name']}” (id {saved['id']}): its own members are not counted by "
               "the frequency cap or the overlap. Pick other brands to start a new campaign.")
    return int(saved["id"])


def show_audience(ws, model, audience, editing: int | None = None) -> None:  # noqa: ANN001 — Workspace, ...
    """Which model ranks the customers, size and cut-off metrics, the two charts, exclusions, overlap with other
    saved campaigns, preview."""
    st.caption(model.brand_side.explanation())
    m = st.columns(5)
    m[0].metric("Audience size", f"{audience.size:,}")
    m[1].metric("Target (contacted)", f"{audience.n_target:,}")
    m[2].metric("Control (held out)", f"{audience.n_control:,}")
    m[3].metric("Cut-off score", "—" if audience.cutoff is None else f"{audience.cutoff:.4f}")
    m[4].metric("Eligible", f"{audience.n_eligible:,}",
                help=f"customers left after exclusions, of {audience.n_scored:,} scored")
    if audience.size == 0:
        st.warning("Nobody is left in this audience: lower the minimum score, raise N, or relax the exclusions.")
    if audience.excluded:
        st.caption("Left out — " + " · ".join(
            f"{k.replace('_', ' ')}: {v:,} ({audience.excluded_above_cutoff[k]:,} above the cut-off)"
            for k, v in audience.excluded.items()))
    left, right = st.columns(2)
    left.plotly_chart(charts.distribution_figure(audience), key="dist_chart")
    right.plotly_chart(charts.size_curve_figure(audience), key="curve_chart")
    others = charts.saved_member_sets(ws, campaigns.list_campaigns(ws), exclude_id=editing)
    if others:
        target = audience.user_ids[audience.groups == "target"]
        table = overlap(target, others)
        left, right = st.columns(2)
        if table["overlap"].sum() == 0:
            capped = audience.excluded.get("frequency_cap", 0)
            left.info(f"No overlap: none of this audience's {len(target):,} target customers is in any of the "
                      f"{len(table):,} other saved campaigns"
                      + (f" (the frequency cap already left out {capped:,} who are)." if capped else "."))
        else:
            left.plotly_chart(charts.overlap_figure(table, len(target)), key="overlap_chart")
        mine = {"this audience": target, **dict(list(others.items())[:8])}
        right.plotly_chart(charts.overlap_matrix_figure(overlap_matrix(mine)), key="overlap_matrix")
    st.subheader("Top customers")
    table = preview(model, audience, charts.customer_events(ws), n=20)
    table["view"] = ["customer?customer=" + quote(str(u)) for u in table["user_id"]]
    # "why" before the long top-brands list: in the centred layout the last columns need a scroll.
    order = ["rank", "user_id", "score", "group", "brand_place", "why", "top_brands", "view"]
    st.dataframe(table, hide_index=True, key="preview", width="stretch", column_order=order, column_config={
        "score": st.column_config.NumberColumn(format="%.4f"),
        "brand_place": st.column_config.TextColumn("chosen brand in their own list",
                                                   help="where the campaign's brand ranks among all brands for them"),
        "why": st.column_config.TextColumn("why (their events on these and similar brands)", width="large"),
        "view": st.column_config.LinkColumn("customer view", display_text="open")})


def save_form(ws, user: str, audience, version: str) -> None:  # noqa: ANN001
    """Name + save; the request id made at render makes a double click save once."""
    request_id = st.session_state.setdefault("aud_request_id", uuid.uuid4().hex)
    with st.form("save_campaign", clear_on_submit=False):
        name = st.text_input("Campaign name", key="aud_name")
        description = st.text_input("Description (optional)", key="aud_description")
        submitted = st.form_submit_button("Save campaign", type="primary")
    if saved := st.session_state.pop("aud_saved_message", None):
        st.success(saved)  # said on the whole-app rerun that follows a save
    if submitted:
        try:
            with st.spinner(f"Saving {audience.size:,} members…"):
                cid = campaigns.save_campaign(ws, name, audience, version, user, description, request_id=request_id)
        except AtelierError as error:
            show_error(error)
        else:
            st.session_state["aud_request_id"] = uuid.uuid4().hex
            st.session_state["aud_campaign"] = str(cid)
            st.session_state["aud_editing"] = {"id": cid, "name": name.strip(), "brands": list(audience.spec.brands)}
            st.session_state["aud_saved_message"] = (f"Saved campaign “{name.strip()}” (id {cid}) with "
                                                     f"{audience.size:,} customers.")
            st.rerun(scope="app")  # the saved campaigns below, outside this fragment, must list it


def saved_campaign_panel(ws, user: str) -> None:  # noqa: ANN001 — Workspace
    """The saved campaigns' table and picker (its id in the URL), the export and the outcomes with lift."""
    st.header("Saved campaigns")
    table = campaigns.list_campaigns(ws)
    if table.empty:
        st.info("No campaign saved yet: build an audience above and save it.")
        return
    # The model as people name it ("affinity v3 · 5 Dec 19:52"), not its 40-character id.
    names_of = model_versions.list_versions(ws, campaigns.ARTIFACT_KIND).set_index("version")["name"].to_dict()
    table = table.assign(model_version=table["model_version"].map(lambda v: names_of.get(v, v)))
    st.dataframe(table, hide_index=True, key="campaigns_table", column_config={
        "model_version": st.column_config.TextColumn("model")})
    ids = [str(i) for i in table["id"]]
    names = dict(zip(ids, table["name"]))
    if st.session_state.get("aud_campaign") not in ids:
        if st.session_state.get("aud_campaign"):
            st.warning(f"Campaign {st.session_state['aud_campaign']} is not in this workspace; showing the newest.")
        st.session_state["aud_campaign"] = ids[0]
    cid = st.selectbox("Campaign", ids, key="aud_campaign", format_func=lambda i: f"{i} · {names[i]}")
    charts.write_url({"campaign": cid})
    record = campaigns.load_campaign(ws, int(cid))
    model = names_of.get(record.model_version, record.model_version)
    st.caption(f"Brands {', '.join(record.spec.brands)} · {len(record.members):,} members "
               f"({len(record.target_ids):,} target) · model {model} · by {record.created_by}")
    columns = st.multiselect("Extra columns in the export (personal data: add only if the recipient needs them)",
                             list(exports.OPTIONAL_COLUMNS), key="aud_export_cols")
    st.download_button("Export CSV", data=signed_in_only(lambda: exports.export_campaign(ws, record.id, user,
                                                                                         columns).data),
                       file_name=f"campaign-{record.id}-v{record.version_id}.csv", mime="text/csv",
                       key="aud_export", on_click="ignore", type="primary",
                       help="Built when you click: suppressed customers are removed again and the export is audited.")
    outcomes_section(ws, user, record.id)


def outcomes_section(ws, user: str, campaign_id: int) -> None:  # noqa: ANN001
    """Upload who opened / clicked / bought, then target vs control lift with 95% intervals."""
    upload = st.file_uploader("Outcomes CSV (user_id, opened, clicked, bought)", type=["csv"],
                              key=f"aud_outcomes_{campaign_id}")
    if upload is not None and st.session_state.get("aud_outcomes_done") != (campaign_id, upload.file_id):
        try:
            done = campaigns.record_outcomes(ws, campaign_id, campaigns.read_outcomes(upload.getvalue(), upload.name),
                                             user, upload.name)
        except AtelierError as error:
            show_error(error)
        else:
            st.session_state["aud_outcomes_done"] = (campaign_id, upload.file_id)
            (st.warning if done.not_members else st.success)(done.message())
    try:
        lifts = campaigns.campaign_lift(ws, campaign_id)
    except AtelierError as error:
        st.caption(str(error))
        return
    st.plotly_chart(charts.lift_figure(lifts), key="lift_chart")
    st.dataframe(campaigns.lift_frame(lifts), hide_index=True, key="lift_table", column_config={
        "difference (95% CI)": st.column_config.TextColumn(
            help="target rate − control rate, in percentage points, with its 95% confidence interval"),
        "relative lift (95% CI)": st.column_config.TextColumn(
            help="target rate ÷ control rate − 1, with its 95% confidence interval (wide when counts are small)")})
