"""AppTest helpers: run app.py on a private copy of the demo workspace and switch to a page."""

from __future__ import annotations

from typing import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT

APP = str(REPO_ROOT / "app.py")


def open_app(page: str | None = None, timeout: float = 90) -> AppTest:
    """Run app.py (navigation, sidebar, page) and, if given, switch to `page` ("pages/home.py") and run it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


@pytest.fixture
def app(demo_copy) -> Callable[..., AppTest]:
    """`app("pages/x.py")` -> an AppTest that has run app.py and then that page, on a writable demo copy."""
    return open_app
