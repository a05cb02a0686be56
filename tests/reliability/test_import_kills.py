"""An import killed at every step of its publish leaves the workspace consistent: the old tables or the new ones,
each with its database record, nothing lost, no staging left once the workspace is opened again."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.data.tables import NEW_WORKSPACE_STEPS, STEPS, TableStore
from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from core.db.models import AuditLog, ImportRun
from core.db.session import read_session
from core.services import startup
from core.services.imports import ImportFile, import_files
from tests.reliability import workers

OLD = {"catalogue": b"item_id,name,brand\na,Shirt,B1\nb,Dress,B2\n",
       "interactions": b"user_id,item_id,event\nu1,a,view\nu2,b,order\n"}
NEW = {"catalogue": b"item_id,name,brand\na,Shirt,B1\nb,Dress,B2\nc,Coat,B3\n",
       "outfits": b"outfit_id,item_id\no1,a\no1,b\n"}  # the catalogue replaced, outfits new, interactions kept


def _counts(ws: Workspace) -> tuple[int, int]:
    with read_session(ws) as session:
        runs = session.scalar(sa.select(sa.func.count()).select_from(ImportRun).where(ImportRun.workspace == ws.name))
        audits = session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "import"))
    return int(runs), int(audits)


@pytest.mark.slow  # eight importer processes, each killed at its own step
def test_an_import_killed_at_every_step_of_its_publish_leaves_old_or_new_never_a_mix(
        dialect: str, atelier_home: Path, report) -> None:
    consistent, outcomes = 0, []
    for kill_at in STEPS:
        name = f"shop-{STEPS.index(kill_at)}"
        ws = Workspace.open(import_files(name, [ImportFile(k, v, f"{k}.csv") for k, v in OLD.items()]).path)
        before = _counts(ws)
        dispose_engines()  # no pooled connection crosses into the importer
        proc = workers.CTX.Process(target=workers.importer, args=(str(atelier_home), os.environ.get("DATABASE_URL"),
                                                                  str(ws.path), kill_at, NEW))
        proc.start()
        proc.join(120)
        assert proc.exitcode == -9, f"the importer was not killed at {kill_at} (exit {proc.exitcode})"
        ws = Workspace.open(ws.path)
        startup.open_workspace(ws)  # what the app does first with a workspace after a restart
        runs, audits = _counts(ws)
        committed = runs > before[0]
        items = sorted(ws.catalogue()["item_id"])
        served_new = items == ["a", "b", "c"] and ws.has("outfits")
        served_old = items == ["a", "b"] and not ws.has("outfits")
        ok = (served_new if committed else served_old) and (audits > before[1]) == committed
        ok &= sorted(ws.interactions()["user_id"]) == ["u1", "u2"]  # the table not imported is never lost
        store = TableStore(ws.path)
        leftovers = [p.name for p in [*store.tables.iterdir(), *ws.path.iterdir()] if ".staging" in p.name]
        ok &= not leftovers and store.live_generation() in store.generations()
        consistent += ok
        outcomes.append(f"{kill_at}:{'new' if committed else 'old'}{'' if ok else '!'}")
    report("import killed by SIGKILL at each publish step, then reopened",
           kill_points_consistent=f"{consistent}/{len(STEPS)}", outcomes=" ".join(outcomes))
    assert consistent == len(STEPS), outcomes


def test_a_second_import_after_a_crash_finishes_the_first_and_goes_on(atelier_home: Path) -> None:
    ws = Workspace.open(import_files("shop", [ImportFile(k, v, f"{k}.csv") for k, v in OLD.items()]).path)
    frame = pd.DataFrame({"item_id": ["z"], "name": ["Hat"], "brand": ["B9"]})
    store = TableStore(ws.path)
    store.ensure_layout(["catalogue.parquet", "interactions.parquet"])
    staging = store.stage()
    frame.to_parquet(staging / "catalogue.parquet")  # a publish that died before sealing
    import_files(ws.path, [ImportFile("catalogue", NEW["catalogue"], "c.csv")])
    assert sorted(ws.catalogue()["item_id"]) == ["a", "b", "c"]
    assert not any(p.name.startswith(".staging") for p in store.tables.iterdir())
    assert len(store.generations()) <= 3  # the live set, the previous one and the flat layout's first


@pytest.mark.parametrize("kill_at", NEW_WORKSPACE_STEPS)
def test_an_import_creating_a_workspace_killed_midway_leaves_it_whole_or_absent(dialect: str, atelier_home: Path,
                                                                               kill_at: str, report) -> None:
    dispose_engines()
    target = atelier_home / "workspaces" / "fresh"
    proc = workers.CTX.Process(target=workers.importer, args=(str(atelier_home), os.environ.get("DATABASE_URL"),
                                                              str(target), kill_at, OLD))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -9
    startup.open_workspace(Workspace.open(target))  # the app opens it first after the restart
    if kill_at == "workspace_published":  # killed before its record: the workspace is taken back whole
        assert not target.exists()
    else:
        ws = Workspace.open(target)
        assert sorted(ws.catalogue()["item_id"]) == ["a", "b"] and _counts(ws)[0] == 2
        assert "pending_import" not in ws.manifest
    report("an import creating a workspace killed by SIGKILL", step=kill_at, exists=target.exists())
