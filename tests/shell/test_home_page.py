"""AppTest of app.py and the home page: navigation, first-launch demo, sidebar switcher, plain errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.data.demo import generate_demo
from tests.pages.conftest import open_app

pytestmark = pytest.mark.slow  # each test runs the whole app or page (5–15 s on the shared cores)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_counts_curves_and_coverage(demo_copy) -> None:
    at = open_app()
    assert not at.exception
    assert metrics(at) == {"Users": "4,000", "Brands": "60", "Items": "2,500", "Interactions": "120,000",
                           "Outfits": "800"}
    assert len(at.get("plotly_chart")) >= 4  # popularity, events, coverage, coverage by group
    text = " ".join(m.value for m in at.markdown)
    assert "of items have at most 3 interactions" in text
    assert at.sidebar.selectbox(key="sidebar_workspace").value == "demo"
    assert any("none yet" in m.value for m in at.sidebar.markdown)


def test_switch_to_home_page_from_navigation(demo_copy) -> None:
    at = open_app("pages/home.py")
    assert not at.exception and metrics(at)["Items"] == "2,500"


def test_first_launch_generates_the_demo(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_DEMO_SIZE", "tiny")
    monkeypatch.setenv("ATELIER_WORKSPACE", "demo")
    at = open_app()
    assert not at.exception
    assert (atelier_home / "workspaces" / "demo" / "workspace.json").is_file()
    assert metrics(at)["Users"] == "400"


def test_sidebar_switches_workspace(demo_copy, atelier_home: Path) -> None:
    generate_demo(atelier_home / "workspaces" / "second", size="tiny", seed=1)
    at = open_app()
    at.sidebar.selectbox(key="sidebar_workspace").select("second").run()
    assert not at.exception
    assert metrics(at)["Users"] == "400"
    assert at.title[0].value == "Workspace · second"


def test_missing_workspace_falls_back_to_an_existing_one(demo_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_WORKSPACE", "gone")
    at = open_app()
    assert not at.exception and metrics(at)["Users"] == "4,000"


def _errors_page() -> None:
    from core.errors import NotReadyError, Problem, ValidationError, WorkspaceError  # runs in AppTest
    from ui.context import show_error

    show_error(WorkspaceError("no workspace at /x: create the demo with `python -m core demo`"))
    show_error(ValidationError([Problem("items.csv", 3, "price", "must be a number", "abc")]))
    show_error(NotReadyError("no model yet: train one on the Affinity training page"))


def test_show_error_turns_atelier_errors_into_plain_messages() -> None:
    at = AppTest.from_function(_errors_page).run()
    assert not at.exception
    assert at.error[0].value.startswith("no workspace at /x")
    assert "1 problem(s)" in at.error[1].value
    # A step not taken yet is guidance (blue), not a failure (red): a fresh demo shows no red box.
    assert len(at.error) == 2 and at.info[0].value.startswith("no model yet")
    table = at.dataframe[0].value
    assert table.iloc[0].to_dict() == {"file": "items.csv", "row": 3, "column": "price", "rule": "must be a number",
                                       "value": "abc"}


def test_pages_folder_is_only_reached_through_app_navigation() -> None:
    # Every page file is in the page table app.py navigates (or it would be unreachable).
    from tests.browser.test_smoke import navigation_titles
    from ui.pages import PAGES

    listed = {page.path for page in PAGES}
    for page in sorted((REPO_ROOT / "pages").glob("*.py")):
        assert f"pages/{page.name}" in listed, f"{page.name} is not in ui/pages.py's PAGES"
    assert "Home" in navigation_titles()


def test_app_refuses_to_write_to_an_outdated_database(demo_copy) -> None:
    """Regression: the app used to migrate an older database on open; the issue asks it to refuse writes until
    someone upgrades it (a shared database may still serve older code). The sidebar says so on every page."""
    import sqlalchemy as sa

    from core.db import migrate
    from core.db.session import engine_for, forget_schema_checks
    from core.errors import SchemaOutdatedError
    from core.services.imports import ImportFile, import_files

    engine = engine_for(demo_copy)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    forget_schema_checks()
    at = open_app()
    assert not at.exception, at.exception
    notice = [w.value for w in at.sidebar.warning]
    assert notice and "Read-only" in notice[0] and "python -m core db upgrade --workspace demo" in notice[0], notice
    assert migrate.schema_state(engine) == "behind"  # opening the app changed nothing
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM import_run")).scalar()
    before = (demo_copy.path / "interactions.parquet").read_bytes()
    with pytest.raises(SchemaOutdatedError, match="db upgrade"):
        import_files("demo", [ImportFile("interactions", b"user_id,item_id,event\nu1,i1,view\n", "x.csv")])
    assert (demo_copy.path / "interactions.parquet").read_bytes() == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM import_run")).scalar() == runs


def test_a_workspace_without_interactions_says_so_plainly(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: "Only 100.0% of items carry every attribute" and "the interactions carry no event types"."""
    from core.services.imports import ImportFile, import_files

    import_files("fresh", [ImportFile("catalogue", b"item_id,name,attr_colour\na,Shirt,red\nb,Dress,blue\n", "c.csv")])
    monkeypatch.setenv("ATELIER_WORKSPACE", "fresh")
    at = open_app()
    assert not at.exception
    text = " ".join(m.value for m in [*at.markdown, *at.info])
    assert "Only" not in text and "Every item carries every attribute that applies to it." in text
    assert "No interactions yet" in text and "carry no event types" not in text
