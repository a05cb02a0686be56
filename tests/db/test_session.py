"""Transactions: idempotent inserts, optimistic concurrency, append-only audit, foreign keys, UTC timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.data.workspace import Workspace
from core.db import audit
from core.db.models import AttributeReview, AuditLog, CatalogueValue, PairCandidate, PairLabel
from core.db.session import check_version, insert_ignore, read_session, transaction
from core.errors import StaleEditError


def _review(request_id: str, **over: object) -> dict:
    row = dict(workspace="w", item_id="00123", attribute="colour", decision="accept", value="red",
               predicted="red", probability=0.9, model_version="v1", reviewer="ana", request_id=request_id)
    row.update(over)
    return row


def test_insert_ignore_is_idempotent_by_request_id(ws: Workspace) -> None:
    with transaction(ws) as session:
        assert insert_ignore(session, AttributeReview, _review("r-1")) == 1
    with transaction(ws) as session:  # the same form submitted twice (a rerun, a double click)
        assert insert_ignore(session, AttributeReview, _review("r-1", value="blue")) == 0
        assert insert_ignore(session, AttributeReview, [_review("r-2"), _review("r-1"), _review("r-3")]) == 2
    with read_session(ws) as session:
        rows = session.scalars(sa.select(AttributeReview).order_by(AttributeReview.id)).all()
    assert [r.request_id for r in rows] == ["r-1", "r-2", "r-3"]
    assert rows[0].value == "red" and rows[0].item_id == "00123"
    assert rows[0].created_at.tzinfo is not None


def test_one_label_per_pair_and_labeller(ws: Workspace) -> None:
    with transaction(ws) as session:
        pair = PairCandidate(workspace="w", item_a="a", item_b="b")
        session.add(pair)
        session.flush()
        pair_id = pair.id
        assert insert_ignore(session, PairLabel,
                             dict(pair_id=pair_id, labeller="li", label="yes", request_id="q1")) == 1
        # A new request by the same labeller on the same pair is refused by UNIQUE(pair_id, labeller).
        assert insert_ignore(session, PairLabel, dict(pair_id=pair_id, labeller="li", label="no", request_id="q2")) == 0


def test_foreign_keys_are_enforced(ws: Workspace) -> None:
    with pytest.raises(IntegrityError):
        with transaction(ws) as session:
            session.add(PairLabel(pair_id=424242, labeller="li", label="yes", request_id="q"))


def test_check_constraints_refuse_unknown_values(ws: Workspace) -> None:
    with pytest.raises(IntegrityError):
        with transaction(ws) as session:
            insert_ignore(session, AttributeReview, _review("r-9", decision="maybe"))


def test_concurrent_edit_raises_stale_edit(ws: Workspace) -> None:
    with transaction(ws) as session:
        session.add(CatalogueValue(workspace="w", item_id="i1", attribute="colour", value="red", source="import",
                                   updated_by="ana"))
    with read_session(ws) as session:  # both people see version 1
        seen = session.scalars(sa.select(CatalogueValue)).one()
    assert seen.version_id == 1
    with transaction(ws) as session:  # the first one saves
        row = session.get(CatalogueValue, seen.id)
        check_version(row, seen.version_id)
        row.value, row.updated_by = "blue", "ana"
    with pytest.raises(StaleEditError, match="reload"):  # the second one saves on a stale view
        with transaction(ws) as session:
            row = session.get(CatalogueValue, seen.id)
            check_version(row, seen.version_id)
            row.value = "green"
    with read_session(ws) as session:
        final = session.get(CatalogueValue, seen.id)
    assert (final.value, final.version_id) == ("blue", 2)


def test_version_id_col_catches_a_race_between_load_and_flush(ws: Workspace) -> None:
    with transaction(ws) as session:
        session.add(CatalogueValue(workspace="w", item_id="i1", attribute="fit", value="slim", source="import",
                                   updated_by="ana"))
    with read_session(ws) as session:
        stale = session.scalars(sa.select(CatalogueValue)).one()
    with transaction(ws) as session:
        session.execute(sa.update(CatalogueValue).values(value="loose", version_id=CatalogueValue.version_id + 1))
    with pytest.raises(StaleEditError):
        with transaction(ws) as session:
            mine = session.merge(stale, load=False)  # the ORM row as loaded at version 1
            mine.value = "regular"


def test_audit_log_is_append_only(ws: Workspace) -> None:
    with transaction(ws) as session:
        audit.record(session, "ana", "export", "w", "campaign 3", {"rows": 12, "at": datetime(2026, 1, 1)})
    with read_session(ws) as session:
        row = session.scalars(sa.select(AuditLog)).one()
    assert row.details == {"rows": 12, "at": "2026-01-01T00:00:00"}
    for statement in (sa.update(AuditLog).values(who="mallory"), sa.delete(AuditLog)):
        with pytest.raises(DBAPIError, match="append-only"):
            with transaction(ws) as session:
                session.execute(statement)


def test_timestamps_round_trip_in_utc(ws: Workspace) -> None:
    later = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with transaction(ws) as session:
        session.add(PairCandidate(workspace="w", item_a="a", item_b="b", claim_expires_at=later))
    with read_session(ws) as session:
        pair = session.scalars(sa.select(PairCandidate)).one()
        due = session.scalar(sa.select(sa.func.count()).where(
            PairCandidate.claim_expires_at < datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)))
    assert pair.claim_expires_at == later and pair.claim_expires_at.tzinfo is not None
    assert due == 1  # 12:00+02:00 is 10:00 UTC


def test_nested_transaction_fails_fast_instead_of_waiting_for_its_own_lock(ws: Workspace) -> None:
    with transaction(ws):
        with pytest.raises(RuntimeError, match="pass the outer session down"):
            with transaction(ws):
                pass
    with transaction(ws) as session:  # the outer one ended cleanly: the next one opens
        audit.record(session, "ana", "x", "w")
