"""Browser: on the Data page a person uploads a bad file (report, nothing written), then a good one (imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CORPUS = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def data_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """app.py on a small imported workspace 'shop' (no demo needed)."""
    home = tmp_path_factory.mktemp("data_browser_home")
    (home / "workspaces").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("ATELIER_HOME", str(home))
    from core.services.imports import ImportFile, import_files

    result = import_files("shop", [
        ImportFile("catalogue", b"item_id,name,brand\n00123,Shirt,B1\nNA,Dress,B2\n", "catalogue.csv"),
        ImportFile("interactions", b"user_id,item_id,event\nu1,00123,view\n", "interactions.csv"),
    ])
    mp.undo()
    with streamlit_server(home, workspace="shop") as url:
        yield url, result.path


def test_bad_then_good_upload(page, data_app: tuple[str, Path]) -> None:
    from core.data.workspace import Workspace
    from core.services.imports import table_checksums

    url, ws_path = data_app
    before = table_checksums(ws_path)
    page.goto(f"{url}/data")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert page.locator('[data-testid="stException"]').count() == 0

    page.set_input_files('[data-testid="stFileUploader"] input[type=file]',
                         str(CORPUS / "malformed" / "formula_at_sum.csv"))
    wait_idle(page)
    main.get_by_role("button", name="Validate").click()
    wait_idle(page)
    assert "1 problem(s)" in main.inner_text()
    assert main.get_by_role("button", name="Import into shop").count() == 0
    assert table_checksums(ws_path) == before

    page.set_input_files('[data-testid="stFileUploader"] input[type=file]', str(CORPUS / "good" / "special_ids.csv"))
    wait_idle(page)
    main.get_by_role("button", name="Validate").click()
    wait_idle(page)
    assert "4 rows, no problems" in main.inner_text()
    assert "Importing replaces shop's interactions table" in main.inner_text()  # asked before it replaces
    main.get_by_text("Replace the interactions table of shop").click()
    wait_idle(page)
    main.get_by_role("button", name="Import into shop").click()
    wait_idle(page)
    assert "Updated workspace shop" in main.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert Workspace.open(ws_path).interactions()["item_id"].tolist() == ["NA", "1e5", "NaN", "0x1F"]
