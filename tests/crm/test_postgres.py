"""The campaign flow on PostgreSQL (DATABASE_URL): save, frequency cap, outcomes + lift, export + audit."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from core.db.models import AuditLog
from core.db.session import forget_schema_checks, read_session
from core.services import campaigns, exports
from core.services.audience import AudienceSpec, Exclusions
from tests.crm.conftest import make_crm_workspace

pytestmark = pytest.mark.postgres
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_ws(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The planted CRM workspace with its database in a throw-away PostgreSQL schema (skipped when absent)."""
    admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with admin.connect():
            pass
    except Exception:  # noqa: BLE001 — any failure means PostgreSQL is not here
        admin.dispose()
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    schema = f"crm_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    monkeypatch.setenv("DATABASE_URL", f"{PG_URL}?options=-csearch_path%3D{schema}")
    forget_schema_checks()
    try:
        yield make_crm_workspace(atelier_home / "workspaces")
    finally:
        dispose_engines()
        forget_schema_checks()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_campaign_flow_on_postgres(pg_ws: Workspace) -> None:
    _, version = campaigns.load_model(pg_ws)
    first = campaigns.build_for_workspace(pg_ws, AudienceSpec(["acme"], value=40, control_percent=50, seed=2))
    cid = campaigns.save_campaign(pg_ws, "pg", first, version, "ana", request_id="r1")
    assert campaigns.save_campaign(pg_ws, "pg", first, version, "ana", request_id="r1") == cid
    record = campaigns.load_campaign(pg_ws, cid)
    assert len(record.members) == 40 and (record.members.group == "control").sum() == 20

    capped = campaigns.build_for_workspace(pg_ws, AudienceSpec(["acme"], value=5,
                                                               exclusions=Exclusions(frequency_cap_days=1)))
    assert capped.excluded["frequency_cap"] == 20 and not set(capped.user_ids) & set(record.target_ids)

    outcomes = campaigns.read_outcomes(("user_id,bought\n"
                                        + "\n".join(f"{u},1" for u in record.target_ids[:10])).encode())
    campaigns.record_outcomes(pg_ws, cid, outcomes, "ana")
    bought = {l.outcome: l for l in campaigns.campaign_lift(pg_ws, cid)}["bought"]
    assert bought.rate_target == pytest.approx(0.5) and bought.rate_control == 0

    result = exports.export_campaign(pg_ws, cid, "ana")
    with read_session(pg_ws) as session:
        row = session.scalars(sa.select(AuditLog).where(AuditLog.action == "export_audience")).one()
    assert row.details["sha256"] == hashlib.sha256(result.data).hexdigest() and row.details["rows"] == 20
