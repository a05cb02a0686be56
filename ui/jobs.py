"""Job panel: a polling progress bar, live metrics and their curve, and a cancel button for one job."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from core.data.workspace import Workspace
from core.errors import AtelierError, UnknownIdError
from core.services import jobs
from ui.context import current_user

QUERY_KEY = "job"  # the job shown is kept in the URL, so a browser refresh or a shared link shows it again
STATUS_ICON = {"queued": ":material/schedule:", "running": ":material/autorenew:", "done": ":material/check_circle:",
               "failed": ":material/error:", "cancelled": ":material/cancel:"}  # Streamlit's bundled icon font


def cannot_train(ws: Workspace, kind: str) -> bool:
    """Say why `kind` cannot be trained on this workspace yet (a warning above the form); True when it cannot."""
    reason = jobs.not_ready(ws, kind)
    if reason:
        st.warning(reason[0].upper() + reason[1:] + ".", icon=":material/table_view:")
    return reason is not None


def remember_job(job_id: int) -> None:
    """Put the job id in the URL (call right after `core.services.jobs.submit`)."""
    st.query_params[QUERY_KEY] = str(job_id)


def current_job_id(ws: Workspace, kind: str | None = None) -> int | None:
    """The job this page should show: the one in the URL, else the newest running/queued job of `kind`."""
    raw = st.query_params.get(QUERY_KEY)
    if raw and raw.isdigit():
        try:
            info = jobs.get(ws, int(raw))
            if kind is None or info.kind == kind:
                return info.id
        except UnknownIdError:
            pass  # a link from another workspace: fall back to the newest job of this kind
    if kind is None:
        return None
    latest = jobs.latest(ws, kind, active_only=True)
    return None if latest is None else latest.id


def job_panel(ws: Workspace, job_id: int | None = None, kind: str | None = None,
              refresh_s: float = 1.0) -> jobs.JobInfo | None:
    """Show one job (given, in the URL, or the newest active one of `kind`); polls while it runs.

    Returns the job as first read (None when there is none), so a page can show the result once it is done.
    """
    if job_id is None:
        job_id = current_job_id(ws, kind)
    if job_id is None:
        return None
    try:
        info = jobs.get(ws, job_id)
    except UnknownIdError as error:
        st.warning(str(error))
        return None
    remember_job(job_id)

    @st.fragment(run_every=refresh_s if not info.finished else None, key=f"job_panel_{job_id}")
    def _panel() -> None:
        current = jobs.get(ws, job_id)
        _render(ws, current)
        if current.finished and not info.finished:
            st.rerun(scope="app")  # the job just ended: let the page show its result and stop polling

    _panel()
    return info


def _render(ws: Workspace, info: jobs.JobInfo) -> None:
    icon = STATUS_ICON.get(info.status, "")
    header, button = st.columns([5, 1], vertical_alignment="center")
    header.markdown(f"**{icon} Job #{info.id} · {info.kind}** — {info.status} · by {info.submitted_by}"
                    + (f" · {_elapsed(info)}" if info.started_at else ""))
    if not info.finished and button.button("Cancel", key=f"cancel_job_{info.id}", help="stop this job"):
        try:
            jobs.cancel(ws, info.id, by=current_user())
            st.toast(f"Cancel asked for job #{info.id}: it stops at its next progress update")
        except AtelierError as error:
            st.error(str(error))
    if info.status in ("queued", "running", "done"):  # a failed/cancelled job's bar would only mislead
        st.progress(min(max(info.progress, 0.0), 1.0), text=info.message or info.status)
    if info.metrics:
        last = {k: v for k, v in info.metrics[-1].items() if k not in ("step", "fraction", "at")}
        shown = [(k, v) for k, v in last.items() if isinstance(v, (int, float))][:6]
        for column, (name, value) in zip(st.columns(max(len(shown), 1)), shown):
            column.metric(name, f"{value:.4g}" if isinstance(value, float) else value)
        figure = metrics_figure(info.metrics)
        if figure is not None:
            st.plotly_chart(figure, key=f"job_metrics_{info.id}_{len(info.metrics)}")
    if info.status == "failed" and info.error:
        first, _, rest = info.error.partition("\n")
        st.error(f"Job #{info.id} failed: {first}")
        if rest.strip():
            with st.expander("Details"):
                st.code(rest.strip(), language=None)
    elif info.status == "done" and info.result:
        with st.expander("Result"):
            st.json(info.result)
    elif info.status == "cancelled":
        st.info(info.message or "cancelled")


COUNTERS = ("iteration", "epoch", "step", "batch")  # progress positions, not measurements: never drawn
PANELS = (("losses", ("loss",)), ("throughput", ("/s", "_per_s", "per_second", "throughput")),
          ("metrics", ()))


def metric_panels(points: list[dict]) -> dict[str, list[str]]:
    """Numeric metric names by panel (losses, throughput, metrics), counters such as the iteration left out."""
    names = sorted({k for p in points for k, v in p.items()
                    if k not in ("step", "fraction", "at") and isinstance(v, (int, float)) and not isinstance(v, bool)
                    and k.lower() not in COUNTERS})
    panels: dict[str, list[str]] = {}
    for name in names:
        panel = next(title for title, marks in PANELS if not marks or any(m in name.lower() for m in marks))
        panels.setdefault(panel, []).append(name)
    return {title: panels[title] for title, _ in PANELS if title in panels}


def metrics_figure(points: list[dict]) -> go.Figure | None:
    """One small chart per kind of number — losses, throughput, scores — each on its own y axis (items/s in the
    thousands would flatten a loss); None when no point has a numeric metric."""
    panels = metric_panels(points)
    if not panels:
        return None
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels), horizontal_spacing=0.08)
    for col, (title, names) in enumerate(panels.items(), start=1):
        for name in names:
            xs = [p["step"] for p in points if isinstance(p.get(name), (int, float))]
            ys = [p[name] for p in points if isinstance(p.get(name), (int, float))]
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, legendgroup=title,
                                        legendgrouptitle_text=title if len(names) > 1 else None), row=1, col=col)
        figure.update_xaxes(title_text="step", row=1, col=col)
    figure.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.35),
                         legend_tracegroupgap=12)
    return figure


def _elapsed(info: jobs.JobInfo) -> str:
    seconds = info.elapsed_s()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
