"""Jobs: every job of the workspace with its status, progress and error; pick one to follow or cancel it."""

from __future__ import annotations

import streamlit as st

from core.errors import AtelierError
from core.services import jobs
from ui.auth import guard
from ui.context import current_workspace, show_error
from ui.jobs import current_job_id, job_panel, remember_job

STATUSES = ["queued", "running", "done", "failed", "cancelled"]


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Jobs")
    st.caption("Training and other long work run in their own process; they keep running when you leave this page.")
    try:
        ws = current_workspace()
        status = st.pills("Status", STATUSES, selection_mode="single", key="jobs_status")
        frame = jobs.list_jobs(ws, status=status)
    except AtelierError as error:
        show_error(error)
        return
    if frame.empty:
        st.info("No jobs here yet. Training buttons on the model pages start them, and so does "
                "`python -m core train ...` on the command line.")
        return
    st.button("Refresh", icon=":material/refresh:", key="jobs_refresh")
    shown = frame.assign(error=frame["error"].fillna("").str.split("\n").str[0])
    event = st.dataframe(
        shown[["id", "kind", "status", "progress", "message", "error", "submitted_by", "created_at", "finished_at"]],
        hide_index=True, on_select="rerun", selection_mode="single-row", key="jobs_table",
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0, format="percent"),
            "created_at": st.column_config.DatetimeColumn("submitted", format="YYYY-MM-DD HH:mm:ss"),
            "finished_at": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        remember_job(int(frame.iloc[rows[0]]["id"]))
    job_id = current_job_id(ws) or int(frame.iloc[0]["id"])
    st.subheader(f"Job #{job_id}")
    job_panel(ws, job_id)


main()
