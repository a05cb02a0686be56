"""`?ws=` names a workspace under ATELIER_HOME; a path, '..' or a NUL opens nothing else and creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.workspace import Workspace, check_workspace_name
from core.errors import WorkspaceError
from tests.pages.conftest import APP
from streamlit.testing.v1 import AppTest

HOSTILE = ["{outside}", "{outside}/", "../{name}", "demo/../../{name}", "..", ".", ".hidden", "demo\x00", "a/b",
           "demo\n", "x" * 65, "", " demo", "C:\\temp", "%2e%2e%2f"]


def _hostile(outside: Path) -> list[str]:
    return [h.format(outside=outside, name=outside.name) for h in HOSTILE]


def test_only_names_are_workspace_names(tmp_path: Path) -> None:
    assert check_workspace_name("demo-large_2.v1") == "demo-large_2.v1"
    for value in [*_hostile(tmp_path), None, 3]:
        with pytest.raises(WorkspaceError, match="is not allowed"):
            check_workspace_name(value)


def test_named_refuses_a_folder_outside_home(demo_copy, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "workspace.json").write_text("{}")  # even a folder that looks like a workspace
    for value in _hostile(outside):
        with pytest.raises(WorkspaceError):
            Workspace.named(value)
    assert Workspace.named("demo").path == demo_copy.path


def test_open_with_a_nul_is_a_clear_error(demo_copy) -> None:
    with pytest.raises(WorkspaceError, match="NUL"):
        Workspace.open("demo\x00")


@pytest.mark.parametrize("value", ["{outside}", "../{name}", "demo\x00"])
def test_a_hostile_ws_link_opens_the_default_workspace_and_writes_nothing_outside(demo_copy, tmp_path: Path,
                                                                                  value: str) -> None:
    outside = tmp_path / "victim"
    outside.mkdir()
    (outside / "workspace.json").write_text('{"name": "victim"}')
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["ws"] = value.format(outside=outside, name=outside.name)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert sorted(p.name for p in outside.iterdir()) == ["workspace.json"], "the app wrote into a folder outside"
    assert at.sidebar.selectbox[0].value == "demo"
