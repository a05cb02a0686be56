"""Atelier's entry point: page config, the demo on first launch, navigation over pages/, the shared sidebar."""

from __future__ import annotations

import streamlit as st
from streamlit import delta_generator

from core.config import REPO_ROOT
from core.errors import AtelierError
from ui.auth import allowed, sign_in_gate
from ui.context import ensure_demo, show_error
from ui.pages import PAGES, mark_app_shell, streamlit_page
from ui.sidebar import render_sidebar

# Streamlit's first element of a process runs a REPL check, inspect.stack(), whose getmodule() walks every loaded
# module for every frame: with pandas, SQLAlchemy and plotly loaded that cost the first page 0.3-1.2 s (an empty
# script: nothing). Under `streamlit run` there is no REPL to warn about. (A no-op should the flag go away.)
delta_generator._use_warning_has_been_displayed = True  # noqa: SLF001


def navigation() -> st.Page:
    """st.navigation over the page table: the sections, in order, of the pages the acting person may open."""
    sections: dict[str, list[st.Page]] = {}
    for page in PAGES:
        if page.file.is_file() and allowed(page.path):
            sections.setdefault(page.section, []).append(streamlit_page(page))
    return st.navigation(sections)


def main() -> None:
    st.set_page_config(page_title="Atelier", page_icon=str(REPO_ROOT / "assets" / "icon.svg"), layout="wide")
    st.logo(str(REPO_ROOT / "assets" / "logo.svg"), icon_image=str(REPO_ROOT / "assets" / "icon.svg"), size="large")
    sign_in_gate()  # team mode: stops here until someone with a role is signed in; binds them for services
    try:
        ensure_demo()
    except AtelierError as error:
        show_error(error)
    page = navigation()
    mark_app_shell()
    render_sidebar()
    page.run()


main()
