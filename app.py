"""Atelier's entry point: page config, the demo on first launch, navigation over pages/, the shared sidebar."""

from __future__ import annotations

import streamlit as st

from core.config import REPO_ROOT
from core.errors import AtelierError
from ui.auth import allowed, sign_in_gate
from ui.context import ensure_demo, show_error
from ui.sidebar import render_sidebar

# Sections of the navigation: (file, title, icon). A page appears once its file exists.
PAGES: dict[str, list[tuple[str, str, str]]] = {
    "Overview": [
        ("pages/home.py", "Home", ":material/home:"),
        ("pages/data.py", "Data", ":material/database:"),
        ("pages/jobs.py", "Jobs", ":material/work_history:"),
    ],
    "CRM": [
        ("pages/campaign_audience.py", "Campaign audience", ":material/campaign:"),
        ("pages/customer.py", "Customer", ":material/person:"),
    ],
    "Models": [
        ("pages/affinity_training.py", "Affinity training", ":material/model_training:"),
        ("pages/long_tail.py", "Long tail", ":material/scatter_plot:"),
    ],
    "Merchandising": [
        ("pages/attribute_review.py", "Attribute review", ":material/fact_check:"),
    ],
    "Styling": [
        ("pages/outfit_labelling.py", "Outfit labelling", ":material/checkroom:"),
    ],
    "Admin": [
        ("pages/admin.py", "Admin", ":material/admin_panel_settings:"),
    ],
}
HOME = "pages/home.py"


def navigation() -> st.Page:
    sections = {}
    for section, pages in PAGES.items():
        found = [st.Page(str(REPO_ROOT / path), title=title, icon=icon, default=path == HOME)
                 for path, title, icon in pages if (REPO_ROOT / path).is_file() and allowed(path)]
        if found:
            sections[section] = found
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
    st.session_state["atelier_navigation"] = True
    render_sidebar()
    page.run()


main()
