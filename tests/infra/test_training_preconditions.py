"""Training a kind on a workspace that lacks its table is refused before anything is queued, with what to import."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.errors import NotReadyError
from core.services import jobs
from core.services.imports import ImportFile, import_files


@pytest.fixture
def catalogue_only(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    result = import_files("bare", [ImportFile("catalogue", b"item_id,name\na,Shirt\nb,Dress\n", "c.csv")])
    monkeypatch.setenv("ATELIER_WORKSPACE", "bare")
    return Workspace.open(result.path)


@pytest.mark.parametrize(("kind", "says"), [("affinity", "no interactions table"),
                                            ("long_tail", "no interactions or outfits table"),
                                            ("complementary", "no outfits table"),
                                            ("attributes", "no attribute column")])
def test_a_job_without_its_table_is_refused_before_it_is_queued(catalogue_only: Workspace, kind: str,
                                                                says: str) -> None:
    with pytest.raises(NotReadyError, match=says):
        jobs.submit(catalogue_only, kind, {})
    assert jobs.list_jobs(catalogue_only).empty


def test_the_cli_says_what_to_import(catalogue_only: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "affinity", "--workspace", "bare"]) == 2
    assert "has no interactions table, which the affinity model trains on: import it" in capsys.readouterr().err
    assert jobs.list_jobs(catalogue_only).empty


def test_the_training_page_says_so_and_offers_no_train_button(catalogue_only: Workspace) -> None:
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "affinity_training.py"), default_timeout=60).run()
    assert not at.exception
    assert any("has no interactions table" in w.value for w in at.warning)
    assert next(b for b in at.button if b.label == "Train").disabled
