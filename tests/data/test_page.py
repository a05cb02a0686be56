"""AppTest of the Data page: a good upload is validated then imported; a bad one shows its report and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.services.imports import table_checksums
from tests.data.conftest import GOOD, MALFORMED

pytestmark = pytest.mark.slow  # each test runs the whole app or page (5–15 s on the shared cores)

PAGE = str(REPO_ROOT / "pages" / "data.py")


@pytest.fixture
def page(seeded_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ATELIER_WORKSPACE", seeded_workspace.name)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def _confirm(at: AppTest) -> None:
    """Tick "Replace the … table" where the import replaces one (the page asks before it does)."""
    for box in at.checkbox:
        if box.key and box.key.startswith("data_confirm_"):
            box.check().run()


def _upload(at: AppTest, name: str, data: bytes, kind: str) -> AppTest:
    at.segmented_control(key="data_kind").set_value(kind).run()
    at.file_uploader(key="data_upload").set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_rows(page: AppTest) -> None:
    metrics = {m.label: m.value for m in page.metric}
    # Outfits are counted as on the home page (one outfit of two items), not as table rows.
    assert metrics == {"Interactions": "2", "Catalogue items": "2", "Outfits": "1", "Customers": "2"}
    captions = [c.value for c in page.caption]
    assert "2 outfit items" in captions and "never in an export: 1 unsubscribed" in captions
    previews = [d.value for d in page.dataframe]
    assert any(list(frame.columns[:2]) == ["item_id", "name"] and frame["item_id"].tolist() == ["00123", "NA"]
               for frame in previews)


def test_good_upload_validates_then_imports(page: AppTest, seeded_workspace: Workspace) -> None:
    data = (GOOD / "special_ids.csv").read_bytes()
    at = _upload(page, "special_ids.csv", data, "interactions")
    assert {s.label: s.value for s in at.selectbox if s.key.startswith("data_interactions_map")} == {
        "user_id": "user_id", "item_id": "item_id", "event": "event", "weight": "weight", "timestamp": "timestamp"}
    assert not [b for b in at.button if b.key == "data_commit"]  # nothing to commit before validation
    at.button(key="data_validate").click().run()
    assert any("4 rows, no problems" in s.value for s in at.success)
    assert any("Importing replaces shop's interactions table: the interactions table is replaced whole: 2 "
               "interactions today, 4 after the import" in w.value for w in at.warning)  # said before, not after
    assert at.button(key="data_commit").disabled  # replacing a table needs a yes
    at.checkbox[0].check().run()
    at.button(key="data_commit").click().run()
    assert not at.exception, at.exception
    assert any("Updated workspace" in s.value for s in at.success)
    assert seeded_workspace.interactions()["item_id"].tolist() == ["NA", "1e5", "NaN", "0x1F"]


def test_replacing_the_catalogue_says_what_changes_and_asks_first(page: AppTest, seeded_workspace: Workspace) -> None:
    """Regression: importing into this workspace replaced the whole catalogue without asking."""
    before = seeded_workspace.catalogue()
    data = b"item_id,name,brand,price\n00123,Shirt,B1,12\nnew,Coat,B3,90\n"  # 00123 changed, NA gone, new added
    at = _upload(page, "catalogue.csv", data, "catalogue")
    at.button(key="data_validate").click().run()
    assert any("1 items added, 1 removed, 1 changed and 0 unchanged" in w.value for w in at.warning)
    assert at.button(key="data_commit").disabled and seeded_workspace.catalogue().equals(before)
    at.checkbox[0].check().run()
    at.button(key="data_commit").click().run()
    assert not at.exception, at.exception
    assert sorted(seeded_workspace.catalogue()["item_id"]) == ["00123", "new"]


def test_mapping_selectboxes_rename_columns(page: AppTest, seeded_workspace: Workspace) -> None:
    data = b"customer_id,article_id,what\n007,0042,order\n"
    at = _upload(page, "hm.csv", data, "interactions")
    assert at.selectbox(key="data_interactions_map_0_customer_id").value == "user_id"
    assert at.selectbox(key="data_interactions_map_1_article_id").value == "item_id"
    at.selectbox(key="data_interactions_map_2_what").set_value("event").run()
    at.button(key="data_validate").click().run()
    _confirm(at)
    at.button(key="data_commit").click().run()
    assert seeded_workspace.interactions()[["user_id", "item_id",
                                            "event"]].values.tolist() == [["007", "0042", "order"]]


def test_bad_upload_shows_report_and_writes_nothing(page: AppTest, seeded_workspace: Workspace) -> None:
    before = table_checksums(seeded_workspace.path)
    at = _upload(page, "formula_hyperlink.csv", (MALFORMED / "formula_hyperlink.csv").read_bytes(), "interactions")
    at.button(key="data_validate").click().run()
    assert not at.exception, at.exception
    assert any("problem(s)" in e.value for e in at.error)
    report = at.dataframe[-1].value
    assert list(report.columns) == ["file", "row", "column", "rule", "value"]
    assert report.iloc[0]["rule"].startswith("formula-like id") and report.iloc[0]["row"] == 1
    assert not [b for b in at.button if b.key == "data_commit"]
    assert table_checksums(seeded_workspace.path) == before


def test_new_workspace_from_upload(page: AppTest, atelier_home: Path) -> None:
    at = _upload(page, "catalogue.csv", (GOOD / "quoted_newlines.csv").read_bytes(), "catalogue")
    at.radio(key="data_into").set_value("a new workspace").run()
    at.text_input(key="data_new_name").input("spring").run()
    at.button(key="data_validate").click().run()
    _confirm(at)
    at.button(key="data_commit").click().run()
    assert not at.exception, at.exception
    assert Workspace.open("spring").catalogue()["item_id"].tolist() == ["00042", "007"]
    assert any("Created workspace" in s.value for s in at.success)


@pytest.mark.parametrize("name", ["../escaped", "nested/escaped", "/tmp/escaped-abs", "..", "dot\x00"])
def test_a_new_workspace_name_cannot_leave_atelier_home(page: AppTest, atelier_home: Path, tmp_path: Path,
                                                       name: str) -> None:
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    at = _upload(page, "catalogue.csv", (GOOD / "quoted_newlines.csv").read_bytes(), "catalogue")
    at.radio(key="data_into").set_value("a new workspace").run()
    at.text_input(key="data_new_name").input(name).run()
    at.button(key="data_validate").click().run()
    _confirm(at)
    at.button(key="data_commit").click().run()
    assert not at.exception, at.exception
    assert any("is not allowed" in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before, "a folder was created"
    assert not Path("/tmp/escaped-abs").exists()


def test_a_public_data_set_is_read_only_from_an_import_root(page: AppTest, atelier_home: Path,
                                                            tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "outfits.csv").write_text("outfit_id,item_id\n1,a\n")
    page.selectbox(key="data_public").set_value("mango").run()
    page.text_input(key="data_public_folder_mango").input(str(outside)).run()
    page.button(key="data_public_go").click().run()
    assert not page.exception, page.exception
    assert any("outside the folders files can be imported from" in e.value for e in page.error)
    assert not (atelier_home / "workspaces" / "mango-outfits-2023").exists()


def test_public_import(page: AppTest, shared_data: Path) -> None:
    page.selectbox(key="data_public").set_value("mango").run()
    page.text_input(key="data_public_folder_mango").input(str(shared_data / "mango-outfits-2023")).run()
    page.button(key="data_public_go").click().run()
    assert not page.exception, page.exception
    assert Workspace.open("mango-outfits-2023").outfits()["outfit_id"].nunique() == 6_274


def test_transactions_without_event_get_the_chosen_event(page: AppTest, seeded_workspace: Workspace) -> None:
    data = b"customer_id,article_id,t_dat,price\n00042,0108775015,2018-09-20,0.05\n"
    at = _upload(page, "transactions.csv", data, "interactions")
    at.selectbox(key="data_interactions_map_3_price").set_value("(ignore)").run()
    assert at.selectbox(key="data_default_event").value == "order"
    at.button(key="data_validate").click().run()
    _confirm(at)
    at.button(key="data_commit").click().run()
    assert not at.exception, at.exception
    stored = seeded_workspace.interactions()
    assert stored[["user_id", "item_id", "event"]].values.tolist() == [["00042", "0108775015", "order"]]
    assert stored["weight"].tolist() == [8.0]


def test_server_path_inside_and_outside_the_import_roots(page: AppTest, atelier_home: Path,
                                                         seeded_workspace: Workspace) -> None:
    drop = atelier_home / "drop.csv"
    drop.write_bytes((GOOD / "special_ids.csv").read_bytes())
    page.radio(key="data_how").set_value("Path on the server").run()
    page.text_input(key="data_path").input("/etc/passwd").run()
    assert any("outside the folders" in w.value for w in page.warning)
    assert not [b for b in page.button if b.key == "data_validate"]
    page.text_input(key="data_path").input(str(drop)).run()
    page.button(key="data_validate").click().run()
    _confirm(page)
    page.button(key="data_commit").click().run()
    assert not page.exception, page.exception
    assert seeded_workspace.interactions()["user_id"].tolist() == ["00123", "null", "N/A", "TRUE"]
