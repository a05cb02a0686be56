"""Affinity training: hyper-parameters, a training job with live both-direction learning curves, versions."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.columns import DEFAULT_EVENT_WEIGHTS, EVENTS
from core.errors import AtelierError, ParamsError
from core.services import affinity_eval, affinity_training
from core.services import jobs
from ui.auth import guard
from ui.context import current_user, current_workspace, show_error
from ui.jobs import cannot_train, job_panel, remember_job
from ui.comparison import comparison_panel
from ui.versions import versions_panel

SIDES = {"user": "Brands for a user (user side)", "brand": "Users for a brand (brand side)"}


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Affinity model")
    st.caption("One bi-directional LightFM WARP model ranks brands for each customer **and** customers for each "
               "brand (campaign audiences). Each iteration trains one epoch on customers×brands and one on the "
               "transpose; precision@10 is tracked on a held-out validation split from both sides. For audiences, "
               "ALS and blends of both models compete with it on the same split, and the best ranks customers.")
    try:
        ws, user = current_workspace(), current_user()
    except AtelierError as error:
        show_error(error)
        return
    train_tab, versions_tab, compare_tab = st.tabs(["Train", "Versions", "Compare models"])
    with train_tab:
        request = params_form(disabled=cannot_train(ws, affinity_training.KIND))
        if request is not None:
            params, activate = request
            try:
                job_id = affinity_training.submit_training(ws, params, by=user, activate=activate)
            except AtelierError as error:
                show_error(error)
            else:
                remember_job(job_id)
                st.toast(f"Training job #{job_id} started")
        info = job_panel(ws, kind=affinity_training.KIND)
        if info is None:  # nothing running: show the last run's curves rather than an empty page
            latest = jobs.list_jobs(ws, kind=affinity_training.KIND, limit=1)
            if not latest.empty:
                info = job_panel(ws, job_id=int(latest["id"].iloc[0]))
        if info is not None:
            learning_curves(ws, info.id)
            brand_side_choice(info.result)
    with versions_tab:
        versions_panel(ws, affinity_training.KIND)
    with compare_tab:
        compare_section(ws, user)


def compare_section(ws, user: str) -> None:  # noqa: ANN001 — Workspace
    """The both-direction comparison (popularity, WARP, transposed WARP, bi-directional, ALS) as a job."""
    st.markdown("Trains every model on one held-out split of this workspace's interactions and scores both sides: "
                "**brands for a customer** (the customer page) and **customers for a brand** (campaign audiences).")
    blocked = cannot_train(ws, affinity_eval.KIND)
    with st.form("affinity_compare", enter_to_submit=False):
        left, right = st.columns(2)
        test_fraction = left.number_input("Held-out share", 0.05, 0.5, 0.2, step=0.05, key="cmp_test_fraction")
        tune = right.checkbox("Tune each model on an inner split", value=True, key="cmp_tune",
                              help="iterations for the LightFM models, regularization for ALS; never on the test pairs")
        go = st.form_submit_button("Run the comparison", type="primary", icon=":material/compare:", disabled=blocked)
    if go:
        try:
            job_id = affinity_eval.submit_comparison(ws, affinity_training.AffinityParams(), user,
                                                     float(test_fraction), bool(tune))
        except AtelierError as error:
            show_error(error)
        else:
            st.toast(f"Comparison job #{job_id} started")
    info = job_panel(ws, kind=affinity_eval.KIND)
    shown = info if info is not None and info.finished else jobs.latest(ws, affinity_eval.KIND)
    if shown is not None and shown.status == "done" and shown.result:
        comparison_panel(affinity_eval.comparison_table(shown.result), shown.result.get("split", {}))


def params_form(disabled: bool = False) -> tuple[affinity_training.AffinityParams, bool] | None:
    """The hyper-parameter form; returns (params, activate) when "Train" is pressed with valid values."""
    d = affinity_training.AffinityParams()
    with st.form("affinity_params", enter_to_submit=False):  # Enter in a number field must not start a job
        a, b, c = st.columns(3)
        n_factors = a.number_input("Factors", 4, 256, d.n_factors, step=4, help="embedding size")
        iterations = b.number_input("Iterations", 1, 100, d.iterations,
                                    help="each is one epoch on customers×brands and one on brands×customers")
        learning_rate = c.number_input("Learning rate", 0.001, 0.5, d.learning_rate, step=0.005, format="%.3f")
        a, b, c = st.columns(3)
        ratio = a.number_input("Brand-direction learning rate ratio", 0.05, 2.0, d.transposed_lr_ratio, step=0.05,
                               help="learning rate of the brands×customers epoch ÷ that of the customers×brands epoch")
        max_sampled = b.number_input("Max negatives sampled", 1, 200, d.max_sampled)
        polish = c.number_input("Polish epochs (user side, at the end)", 0, 10, d.polish_epochs)
        a, b, c = st.columns(3)
        half_life = a.number_input("Time decay half-life, days (0 = none)", 0.0, 3650.0, 0.0, step=7.0)
        test_fraction = b.number_input("Validation share", 0.0, 0.5, 0.2, step=0.05,
                                       help="0 trains on everything without a learning curve")
        direction = c.selectbox("Direction", affinity_training.DIRECTIONS,
                                help="users / brands train one direction only (for comparison)")
        with st.expander("Event weights"):
            cols = st.columns(len(EVENTS))
            weights = {e: col.number_input(e, 0.0, 100.0, float(DEFAULT_EVENT_WEIGHTS[e]), key=f"w_{e}")
                       for e, col in zip(EVENTS, cols)}
        challenge = st.checkbox("Let ALS and blends compete for audiences", value=d.challenge_brand_side,
                                help="on the validation split; the best at ranking a brand's customers serves "
                                     "the Campaign audience page (customers' own brand lists stay this model's)")
        activate = st.checkbox("Make it live even if it scores worse than the live version", value=False,
                               help="otherwise it goes live only when it is not worse than the live version beyond "
                                    "the validation split's noise (or when nothing is live); else it waits on the "
                                    "Versions tab beside the live one")
        if not st.form_submit_button("Train", type="primary", icon=":material/model_training:", disabled=disabled):
            return None
    try:
        params = d.replace(n_factors=int(n_factors), iterations=int(iterations), learning_rate=float(learning_rate),
                           transposed_lr_ratio=float(ratio), max_sampled=int(max_sampled), polish_epochs=int(polish),
                           direction=direction, half_life_days=float(half_life) or None,
                           test_fraction=float(test_fraction), event_weights=weights,
                           challenge_brand_side=bool(challenge))
    except ParamsError as error:
        st.error(error.summary(), icon=":material/tune:")
        return None
    return params, bool(activate)


def learning_curves(ws, job_id: int) -> None:  # noqa: ANN001 — Workspace
    """One plotly curve per direction (P@10 and R@10 per iteration), refreshed while the job runs."""
    first = jobs.get(ws, job_id)

    @st.fragment(run_every=None if first.finished else 1.5)
    def _curves() -> None:
        points = jobs.metric_points(ws, job_id, "user_precision@10")
        if not points:
            return
        for column, side in zip(st.columns(2), SIDES):
            column.plotly_chart(curve_figure(points, side), key=f"curve_{side}_{job_id}_{len(points)}")

    _curves()


def brand_side_choice(result: dict | None) -> None:
    """Which model a finished training chose to rank audiences, and every candidate's brand P@10 beside it."""
    side = (result or {}).get("brand_side")
    if not side:
        return
    st.markdown(f"**Audiences:** {side['explanation']}")
    if side.get("validation"):
        table = [{"share of the bi-directional model": f"{float(w):.0%}", "brand P@10 (validation)": v,
                  "serves": "✓" if abs(float(w) - side["weight"]) < 1e-9 else ""}
                 for w, v in sorted(side["validation"].items(), key=lambda kv: -float(kv[0]))]
        st.dataframe(table, hide_index=True, column_config={
            "brand P@10 (validation)": st.column_config.NumberColumn(format="%.4f")})


def curve_figure(points: list[dict], side: str) -> go.Figure:
    """Validation precision@10 and recall@10 of one side against the iteration."""
    figure = go.Figure()
    xs = [p.get("iteration", p["step"]) for p in points]
    for metric in ("precision@10", "recall@10"):
        figure.add_trace(go.Scatter(x=xs, y=[p.get(f"{side}_{metric}") for p in points],
                                    mode="lines+markers", name=metric))
    figure.update_layout(title=SIDES[side], height=280, margin=dict(l=10, r=10, t=40, b=10),
                         xaxis_title="iteration", legend=dict(orientation="h", y=-0.35))
    return figure


main()
