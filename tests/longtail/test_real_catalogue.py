"""The long-tail model and page on an imported real catalogue: Mango's curated outfits as sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow  # imports real products and draws three UMAP maps of them
MANGO = SHARED_DATA / "mango-outfits-2023"


@pytest.fixture(scope="module")
def mango_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ATELIER_HOME with workspace 'mango': a seeded fifth of the real outfits and the products they use, imported
    as files like a user would (the whole set costs minutes of UMAP on 2 shared cores), and a trained version."""
    import numpy as np

    from core.data.public import read_mango
    from core.data.workspace import Workspace
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks
    from core.models.long_tail import LongTailParams
    from core.services import long_tail
    from core.services.imports import ImportFile, import_files

    if not MANGO.is_dir():
        pytest.skip(f"real data folder {MANGO} is absent")
    home = tmp_path_factory.mktemp("mango_home")
    (home / "workspaces").mkdir()
    tables = read_mango(MANGO)
    outfits = tables["outfits"]
    ids = outfits["outfit_id"].unique()
    keep = np.random.default_rng(0).choice(ids, size=len(ids) // 5, replace=False)
    outfits = outfits[outfits["outfit_id"].isin(keep)]
    catalogue = tables["catalogue"][tables["catalogue"]["item_id"].isin(outfits["item_id"])]
    outfits.to_csv(home / "outfits.csv", index=False)
    catalogue.to_csv(home / "catalogue.csv", index=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("ATELIER_HOME", str(home))
    mp.delenv("DATABASE_URL", raising=False)
    forget_schema_checks()
    try:
        import_files("mango", [ImportFile("catalogue", home / "catalogue.csv"),
                               ImportFile("outfits", home / "outfits.csv")])
        ws = Workspace.open("mango")
        assert not ws.has("interactions")  # the data set has outfits only: the model must use them as sessions
        long_tail.submit_training(ws, LongTailParams(epochs=4, factors=16, threshold=5), evaluate=False, wait=True)
    finally:
        dispose_engines()
        forget_schema_checks()
        mp.undo()
    return home


@pytest.fixture
def mango_ws(mango_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    from core.data.workspace import Workspace
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks

    monkeypatch.setenv("ATELIER_HOME", str(mango_home))
    monkeypatch.setenv("ATELIER_WORKSPACE", "mango")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    forget_schema_checks()
    yield Workspace.open("mango")
    dispose_engines()
    forget_schema_checks()


def test_the_version_was_trained_on_outfits_and_has_three_maps(mango_ws) -> None:
    from core.services import long_tail

    model = long_tail.load_model(mango_ws)
    assert model is not None and model.meta["source"] == "outfits"
    assert set(model.layouts) == {"als", "predicted", "blended"}
    assert all(layout.shape == (len(model.item_ids), 2) for layout in model.layouts.values())


def test_maps_page_works_on_the_imported_mango_catalogue(mango_ws) -> None:
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "long_tail.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert "scattergl" in at.get("plotly_chart")[0].proto.spec
    texts = " ".join(m.value for m in at.markdown)
    assert "ALS (collaborative)" in texts and "Predicted from content" in texts
    assert texts.count("cosine") >= 2  # neighbours listed as cards in both spaces


@pytest.mark.browser
def test_browser_selects_mango_items_and_opens_their_neighbours(mango_home: Path, browser) -> None:
    from tests.longtail.test_browser import select_on_the_first_map_then_check_neighbours
    from tests.browser.conftest import streamlit_server

    with streamlit_server(mango_home, workspace="mango", script=REPO_ROOT / "pages" / "long_tail.py") as url:
        select_on_the_first_map_then_check_neighbours(browser, url)
