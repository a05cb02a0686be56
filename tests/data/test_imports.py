"""The import service: all or nothing (a rejected file changes no table, manifest or database row), CLI exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.cli import main as cli_main
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.errors import AtelierError, ValidationError
from core.services.imports import ImportFile, import_files, import_public, table_checksums
from tests.data.conftest import BAD_CASES, GOOD, GOOD_CASES, MALFORMED


def _db_rows(ws: Workspace) -> dict[str, int]:
    from core.db.models import AuditLog, ImportRun
    from core.db.session import read_session

    with read_session(ws) as session:
        return {"import_run": session.scalar(sa.select(sa.func.count()).select_from(ImportRun)),
                "audit_log": session.scalar(sa.select(sa.func.count()).select_from(AuditLog))}


@pytest.mark.slow  # imports all 60 corpus files into one workspace
def test_every_bad_file_leaves_workspace_and_database_unchanged(seeded_workspace: Workspace) -> None:
    before = table_checksums(seeded_workspace.path)
    rows_before = _db_rows(seeded_workspace)
    for case in BAD_CASES:
        # A good file alongside the bad one: it must not be written either (all or nothing).
        files = [ImportFile(case["kind"], MALFORMED / case["file"])]
        if case["kind"] != "customers":
            files.append(ImportFile("customers", b"user_id,unsubscribed\nnew,true\n", "customers.csv"))
        with pytest.raises(ValidationError) as caught:
            import_files(seeded_workspace.path, files)
        assert any(case["rule"] in p.rule for p in caught.value.problems), case
        assert table_checksums(seeded_workspace.path) == before, case["file"]
    assert _db_rows(seeded_workspace) == rows_before


def test_rejected_import_creates_no_workspace(atelier_home: Path) -> None:
    with pytest.raises(ValidationError):
        import_files("fresh", [ImportFile("interactions", MALFORMED / "formula_at_sum.csv")])
    assert list((atelier_home / "workspaces").iterdir()) == []


def test_good_files_import_with_exact_ids_and_records(atelier_home: Path) -> None:
    chosen = {"special_ids.csv", "quoted_newlines.csv", "crlf.csv", "outfits.csv"}
    by_kind = {c["kind"]: c for c in GOOD_CASES if c["file"] in chosen}
    assert len(by_kind) == 4
    result = import_files("good", [ImportFile(kind, GOOD / c["file"]) for kind, c in by_kind.items()], by="ana")
    ws = Workspace.open("good")
    assert ws.catalogue()["item_id"].tolist() == ["00042", "007"]
    assert ws.interactions()["user_id"].tolist() == ["00123", "null", "N/A", "TRUE"]
    assert ws.customers()["user_id"].tolist() == ["00123", "NA"]
    assert ws.outfits()["item_id"].tolist() == ["00123", "NA", "00123"]
    assert result.created and result.rows["interactions"] == 4 and len(result.run_ids) == 4
    from core.db.models import AuditLog, ImportRun
    from core.db.session import read_session

    with read_session(ws) as session:
        runs = session.scalars(sa.select(ImportRun)).all()
        audit = session.scalars(sa.select(AuditLog)).all()
    assert {r.kind for r in runs} == set(by_kind) and all(r.status == "committed" and r.sha256 for r in runs)
    assert [(a.who, a.action) for a in audit] == [("ana", "import")]
    assert not any(p.name.startswith(".staging") for p in ws.path.iterdir())


def test_replacing_one_table_keeps_the_others_and_fills_brands(seeded_workspace: Workspace) -> None:
    outfits_before = table_checksums(seeded_workspace.path)["outfits.parquet"]
    import_files(seeded_workspace.path, [ImportFile("interactions", b"user_id,item_id,event\nz,NA,order\n", "new.csv")])
    interactions = seeded_workspace.interactions()
    assert interactions[["user_id", "item_id", "brand_id"]].values.tolist() == [["z", "NA", "B2"]]
    assert table_checksums(seeded_workspace.path)["outfits.parquet"] == outfits_before
    assert len(seeded_workspace.manifest["imports"]) == 1


def test_failed_database_write_puts_old_tables_back(seeded_workspace: Workspace,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = table_checksums(seeded_workspace.path)
    import core.services.imports as imports

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "_record_in", broken)
    with pytest.raises(RuntimeError):
        import_files(seeded_workspace.path, [ImportFile("catalogue", b"item_id\nnew\n", "c.csv")])
    assert table_checksums(seeded_workspace.path) == before


def test_bad_workspace_name(atelier_home: Path) -> None:
    with pytest.raises(AtelierError, match="not allowed"):
        import_files("bad name!", [ImportFile("catalogue", b"item_id\na\n", "c.csv")])


@pytest.mark.parametrize("case", BAD_CASES, ids=[c["file"] for c in BAD_CASES])
def test_cli_validate_rejects_bad_files(case: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["validate", str(MALFORMED / case["file"]), "--kind", case["kind"], "--json"])
    assert code != 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and any(case["rule"] in p["rule"] for p in report["problems"])


@pytest.mark.parametrize("case", GOOD_CASES, ids=[c["file"] for c in GOOD_CASES])
def test_cli_validate_accepts_good_files(case: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["validate", str(GOOD / case["file"]), "--kind", case["kind"]]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_process_exit_codes_and_import(atelier_home: Path) -> None:
    env = {"ATELIER_HOME": str(atelier_home), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "core", *a], cwd=REPO_ROOT, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    bad = run("import", "--workspace", "cli", "--interactions", str(MALFORMED / "formula_hyperlink.csv"))
    assert bad.returncode != 0 and "formula-like id" in bad.stderr and "row 1" in bad.stderr
    assert "nothing was written" in bad.stderr and not (atelier_home / "workspaces" / "cli").exists()
    ok = run("validate", str(GOOD / "special_ids.csv"), "--kind", "interactions", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows"] == 4


def test_cli_mapping(atelier_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hm.csv"
    path.write_text("customer_id,article_id,t_dat,price,kind\nc1,0108775015,2018-09-20,0.05,order\n", encoding="utf-8")
    assert cli_main(["validate", str(path), "--kind", "interactions"]) != 0
    code = cli_main(["import", "--workspace", "mapped", "--interactions", str(path), "--map",
                     "customer_id=user_id", "article_id=item_id", "t_dat=timestamp", "price=", "kind=event", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"interactions": 1}
    frame = Workspace.open("mapped").interactions()
    assert frame["item_id"].tolist() == ["0108775015"] and frame["weight"].tolist() == [8.0]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2018-09-20", tz="UTC")


@pytest.mark.slow  # 260k interactions
@pytest.mark.realdata
def test_import_public_tmall(atelier_home: Path, shared_data: Path) -> None:
    result = import_public("tmall", shared_data / "tmall-ijcai15-sample", "tmall")
    ws = Workspace.open("tmall")
    assert result.rows["interactions"] == 260_864
    assert ws.interactions()["brand_id"].nunique() == 1_993
    assert ws.has("repeat_buyers") and ws.has("log")
    assert ws.read_table("log")["event"].notna().all()


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", ["mango", "myntra", "polyvore"])
def test_import_public_small_sets(atelier_home: Path, shared_data: Path, name: str) -> None:
    from core.data.public import DEFAULT_FOLDERS

    result = import_public(name, shared_data / DEFAULT_FOLDERS[name], name)
    assert result.created and result.rows["catalogue"] > 9_000


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", ["fashion_product_images", "hm"])
def test_import_public_large_catalogues(atelier_home: Path, shared_data: Path, name: str) -> None:
    from core.data.public import DEFAULT_FOLDERS

    result = import_public(name, shared_data / DEFAULT_FOLDERS[name], name)
    ws = Workspace.open(name)
    assert result.rows["catalogue"] == {"fashion_product_images": 40_011, "hm": 105_542}[name]
    assert ws.catalogue()["item_id"].is_unique
    if name == "hm":
        assert ws.interactions()["item_id"].isin(ws.catalogue()["item_id"]).all()
        assert ws.customers()["unsubscribed"].dtype == bool


def test_server_files_only_from_import_roots(atelier_home: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from core.services.imports import server_file

    inside = atelier_home / "drop" / "sales.csv"
    inside.parent.mkdir()
    inside.write_text("user_id,item_id,event\n1,2,view\n", encoding="utf-8")
    assert server_file(inside) == inside.resolve()
    outside = tmp_path / "elsewhere" / "sales.csv"
    outside.parent.mkdir()
    outside.write_text("x", encoding="utf-8")
    with pytest.raises(AtelierError, match="outside the folders"):
        server_file(outside)
    with pytest.raises(AtelierError, match="outside the folders"):
        server_file(atelier_home / ".." / "elsewhere" / "sales.csv")
    with pytest.raises(AtelierError, match="outside the folders"):
        server_file("/etc/passwd")
    monkeypatch.setenv("ATELIER_IMPORT_DIRS", str(outside.parent))
    assert server_file(outside) == outside.resolve()
    (atelier_home / "drop" / "key.pem").write_text("secret", encoding="utf-8")
    with pytest.raises(AtelierError, match="not a CSV or Parquet"):
        server_file(atelier_home / "drop" / "key.pem")


def test_workspace_list_counts_outfits_not_outfit_rows(seeded_workspace: Workspace,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The seeded shop has one outfit of two items: `workspace list` said 2 outfits."""
    assert cli_main(["workspace", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["outfits"], row["outfit_items"]) == (1, 2)
    assert cli_main(["workspace", "list"]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if "shop" in li)
    assert line.split()[1:] == ["2", "2", "1", "2"]
