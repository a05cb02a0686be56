"""The page table: every screen of the app once — file, title, icon, section, roles, team-only."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.auth import EVERYONE
from core.config import REPO_ROOT

ADMIN_ONLY: frozenset[str] = frozenset({"admin"})  # a page file missing from the table: only an admin opens it
SHELL_KEY = "atelier_navigation"  # set once app.py has built this session's navigation


@dataclass(frozen=True)
class AppPage:
    """One screen: `path` is relative to the repository ("pages/home.py"); `roles` may open it.

    `team_only` pages are listed only when people sign in (the embedded default has nobody to administer).
    """

    path: str
    title: str
    icon: str
    section: str
    roles: frozenset[str]
    team_only: bool = False

    @property
    def file(self) -> Path:
        return REPO_ROOT / self.path

    @property
    def url_path(self) -> str:
        """The page's address (/customer): its file name, as Streamlit's pages/ folder mode named it too."""
        return Path(self.path).stem


PAGES: tuple[AppPage, ...] = (
    # Home is the landing page of every signed-in person.
    AppPage("pages/home.py", "Home", ":material/home:", "Overview", EVERYONE),
    AppPage("pages/data.py", "Data", ":material/database:", "Overview", frozenset({"admin"})),
    AppPage("pages/jobs.py", "Jobs", ":material/work_history:", "Overview", frozenset({"analyst", "admin"})),
    AppPage("pages/campaign_audience.py", "Campaign audience", ":material/campaign:", "CRM", frozenset({"crm"})),
    AppPage("pages/customer.py", "Customer", ":material/person:", "CRM", frozenset({"crm"})),
    AppPage("pages/affinity_training.py", "Affinity training", ":material/model_training:", "Models",
            frozenset({"analyst"})),
    AppPage("pages/long_tail.py", "Long tail", ":material/scatter_plot:", "Models", frozenset({"analyst"})),
    AppPage("pages/attribute_review.py", "Attribute review", ":material/fact_check:", "Merchandising",
            frozenset({"merchandiser"})),
    AppPage("pages/outfit_labelling.py", "Outfit labelling", ":material/checkroom:", "Styling",
            frozenset({"stylist"})),
    AppPage("pages/admin.py", "Admin", ":material/admin_panel_settings:", "Admin", frozenset({"admin"}),
            team_only=True),
)
HOME: AppPage = PAGES[0]
BY_PATH: dict[str, AppPage] = {page.path: page for page in PAGES}


def roles_for(path: str) -> frozenset[str]:
    """Roles that may open the page file `path` ("pages/home.py")."""
    page = BY_PATH.get(path)
    return page.roles if page is not None else ADMIN_ONLY


def streamlit_page(page: AppPage) -> st.Page:
    """The st.Page of a table entry (its url_path keeps bookmarked addresses working)."""
    return st.Page(str(page.file), title=page.title, icon=page.icon, url_path=page.url_path, default=page is HOME)


def mark_app_shell() -> None:
    """app.py, after st.navigation: this session now runs its pages through the shell."""
    st.session_state[SHELL_KEY] = True


def in_app_shell() -> bool:
    """Whether this session has been through app.py (page links and switches work only then)."""
    return bool(st.session_state.get(SHELL_KEY))


def reroute_through_app(page_file: str) -> None:
    """Rerun through app.py when Streamlit ran the page file `page_file` in app.py's place.

    Until app.py has called st.navigation once in a server process, Streamlit treats the `pages/` folder beside
    it as a v1 multipage app: the first deep link after a start (a bookmarked /customer) runs the page file alone,
    without the shell's sign-in, workspace switcher and navigation, and lists every file of pages/. Calling
    st.navigation ends that folder mode for the process; the rerun then runs app.py, whose navigation opens the
    same page because each page's url_path is its file name. A page run as the entry script itself
    (AppTest.from_file on a page) has no shell to go through and stays as it is.
    """
    entry = _entry_script()
    if in_app_shell() or entry is None or entry == Path(page_file).resolve():
        return
    st.navigation([streamlit_page(page) for page in PAGES], position="hidden")
    st.rerun()


def _entry_script() -> Path | None:
    # Streamlit installs the entry script (app.py, or a page run on its own) as __main__ for every run.
    entry = getattr(sys.modules.get("__main__"), "__file__", None)
    return Path(entry).resolve() if entry else None
