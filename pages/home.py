"""Home: the workspace at a glance — counts, the long tail of items and brands, attribute coverage, active models."""

from __future__ import annotations

import streamlit as st

from core.errors import AtelierError
from core.services.workspace import TAIL_MAX, Overview
from ui.auth import guard
from ui.context import current_workspace, show_error
from ui.overview import coverage_figure, coverage_heatmap, events_figure, load_overview, popularity_figure


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    try:
        ws = current_workspace()
        view = load_overview(ws)
    except AtelierError as error:
        st.title("Atelier")
        show_error(error)
        return
    st.title(f"Workspace · {view.name}")
    st.caption(_subtitle(view))
    _counts(view)
    left, right = st.columns([3, 2], gap="large")
    with left:
        _long_tail(view)
    with right:
        _events(view)
    _attributes(view)
    _models(view)


def _subtitle(view: Overview) -> str:
    parts = [(view.description or f"source: {view.source}").rstrip(". ")]
    if view.period is not None:
        start, end = view.period
        parts.append(f"interactions from {start:%d %b %Y} to {end:%d %b %Y}")
    return " · ".join(parts)


def _counts(view: Overview) -> None:
    labels = [("users", "Users"), ("brands", "Brands"), ("items", "Items"), ("interactions", "Interactions"),
              ("outfits", "Outfits")]
    for column, (key, label) in zip(st.columns(len(labels)), labels):
        value = view.counts.get(key)
        column.metric(label, "—" if value is None else f"{value:,}", border=True)


def _long_tail(view: Overview) -> None:
    st.subheader("Popularity: the long tail")
    if view.item_curve.empty:
        st.info("No interactions yet: import an interactions file on the Data page to see the popularity curves.")
        return
    tail = view.tail
    st.markdown(
        f"The top 20% of items hold **{tail.get('top20_item_share', 0):.0%}** of all interactions "
        f"(brands: **{tail.get('top20_brand_share', 0):.0%}**). "
        f"**{tail.get('item_tail_share', 0):.0%}** of items have at most {TAIL_MAX} interactions and "
        f"{tail.get('item_zero_share', 0):.0%} have none — collaborative signals alone cannot recommend them.")
    st.plotly_chart(popularity_figure(view.item_curve, view.brand_curve), key="home_popularity",
                    config={"displayModeBar": False})


def _events(view: Overview) -> None:
    st.subheader("Interactions by event")
    if not view.counts.get("interactions"):
        st.info("No interactions yet: import an interactions file on the Data page to see them by event.")
        return
    if not view.events:
        st.info("The interactions file has no event column: every interaction counts the same.")
        return
    st.plotly_chart(events_figure(view.events), key="home_events", config={"displayModeBar": False})


def _attributes(view: Overview) -> None:
    st.subheader("Attribute coverage")
    coverage = view.attribute_coverage
    if coverage.empty:
        st.info("The catalogue has no attribute columns (`attr_<name>`): add them to see how much is labelled.")
        return
    complete = "" if view.complete_share is None else (
        " Every item carries every attribute that applies to it." if view.complete_share >= 1 else
        f" **{view.complete_share:.1%}** of items carry every attribute that applies to them.")
    st.markdown(f"How much of the catalogue is labelled, attribute by attribute.{complete} "
                "Missing values are filled on the Attribute review page, where a merchandiser accepts or "
                "corrects each prediction.")
    left, right = st.columns(2, gap="large")
    left.plotly_chart(coverage_figure(coverage), key="home_coverage", config={"displayModeBar": False})
    if not view.coverage_by_group.empty:
        right.plotly_chart(coverage_heatmap(view.coverage_by_group), key="home_coverage_groups",
                           config={"displayModeBar": False})
    with st.expander("Coverage table"):
        shown = coverage.assign(coverage=coverage["coverage"] * 100,
                                coverage_applicable=coverage["coverage_applicable"] * 100)
        percent = dict(format="%.0f%%", min_value=0, max_value=100)
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            "coverage": st.column_config.ProgressColumn("of all items", **percent),
            "coverage_applicable": st.column_config.ProgressColumn("where it applies", **percent),
            "applies_to": st.column_config.NumberColumn("applies to (items)"),
            "values": st.column_config.NumberColumn("distinct values")})


def _models(view: Overview) -> None:
    st.subheader("Active models")
    if view.active_models.empty:
        st.info("No model is active yet. Train one from the Models section of the sidebar (or "
                "`python -m core train ...`); the version you activate serves every page.")
        return
    st.dataframe(view.active_models, hide_index=True, width="stretch")


main()
