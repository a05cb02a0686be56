"""Customer view: a customer's top brands by affinity and why, their history, contact flags and campaigns."""

from __future__ import annotations

import streamlit as st

from core.errors import AtelierError
from core.services.audience import NoModelError
from core.services.customers import customer_view
from ui.auth import guard
from ui import audience_charts as charts
from ui.context import current_workspace, show_error


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Customer")
    st.caption("Why does the model think this customer likes a brand? Their top brands next to what they did.")
    try:
        ws = current_workspace()
    except AtelierError as error:
        show_error(error)
        return
    model = None
    try:
        model, _ = charts.active_model(ws)
    except NoModelError as error:
        st.warning(f"{error} — until then only the history is shown.")
    except AtelierError as error:
        show_error(error)
    if "customer_id" not in st.session_state:
        st.session_state["customer_id"] = st.query_params.get("customer", "")
    example = str(model.user_ids.external[0]) if model is not None and model.n_users else "u000123"
    user_id = st.text_input("Customer id", key="customer_id", placeholder=f"exact id, e.g. {example}").strip()
    if user_id:
        st.query_params["customer"] = user_id
    elif "customer" in st.query_params:
        del st.query_params["customer"]
    if not user_id:
        st.info("Enter a customer id (from a campaign preview or your CRM).")
        return
    try:
        view = customer_view(ws, model, user_id)
    except AtelierError as error:
        show_error(error)
        return
    render(view)


def render(view) -> None:  # noqa: ANN001 — CustomerView
    """Flags, top brands with why (chart, table, one brand's pulls), campaigns, history."""
    if view.flags is None:
        st.caption("No customers-file row: contact flags unknown.")
    elif any(view.flags.values()):
        st.error("Never contacted: " + ", ".join(k.replace("_", " ") for k, v in view.flags.items() if v))
    else:
        st.success("May be contacted (not unsubscribed, bounced or a test account).")
    if view.in_model:
        top_brands(view)
    else:
        st.info("This customer is not in the active model (new since it was trained): retrain to score them.")
    st.subheader("Campaigns")
    if view.campaigns.empty:
        st.caption("Not in any saved campaign.")
    else:
        st.dataframe(view.campaigns, hide_index=True, key="customer_campaigns")
    st.subheader(f"History ({len(view.history):,} interactions, newest first)")
    st.dataframe(view.history.drop(columns=["user_id"], errors="ignore"), hide_index=True, key="history",
                 column_config={"item": st.column_config.TextColumn("item", width="medium")})


def top_brands(view) -> None:  # noqa: ANN001 — CustomerView
    """Score = taste + brand bias + their bias; the table says which of their brands pull each one up."""
    st.subheader("Top brands and why")
    st.caption(f"Score = taste (how their profile matches the brand) + the brand's bias (how much everyone likes "
               f"it) + their own bias ({view.user_bias:+.2f}, the same for every brand, so it never changes the "
               "order). “Pulled by” lists their own brands most like this one: similarity of the two brands in "
               "the model × their interaction weight on it (an explanation, not an exact split of the score).")
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.top_brands_figure(view.top_brands), key="top_brands_chart")
    with right:
        brand = st.selectbox("Why this brand?", view.top_brands["brand_id"].tolist(), key="customer_why")
        pulls = view.pulls[view.pulls["brand_id"] == brand]
        if pulls.empty or pulls["pull"].max() <= 0:
            st.caption("None of their own brands is like it: the score comes from the brand's bias and the "
                       "taste of similar shoppers.")
        else:
            st.plotly_chart(charts.pulls_figure(pulls, brand), key="pulls_chart")
    st.dataframe(view.top_brands, hide_index=True, key="top_brands", column_config={
        "score": st.column_config.NumberColumn(format="%.2f"),
        "taste": st.column_config.NumberColumn(format="%+.2f", help="their factors · the brand's factors"),
        "brand_bias": st.column_config.NumberColumn("brand bias", format="%+.2f",
                                                    help="how much the model likes the brand for everyone"),
        "interactions": st.column_config.NumberColumn(help="their events on this brand"),
        "pulled_by": st.column_config.TextColumn("pulled by (their brand similarity×weight)", width="large"),
        "recent": st.column_config.TextColumn("their recent activity on it", width="medium")})

main()
