"""A bookmarked page opened as a session's first request runs inside app.py (sidebar, navigation, sign-in)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP
from ui.pages import SHELL_KEY


def test_a_bookmarked_page_opened_first_runs_inside_the_app(demo_copy) -> None:
    # Before app.py has built a navigation, Streamlit runs a deep link's page file alone (its pages/ folder
    # mode): no workspace switcher, no sign-in gate. The page guard sends the run through app.py instead.
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/customer.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state[SHELL_KEY], "the page ran without app.py"
    assert [s.label for s in at.sidebar.selectbox] == ["Workspace"]
    assert any(h.value == "Customer" for h in [*at.title, *at.header])
