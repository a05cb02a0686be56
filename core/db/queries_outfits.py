"""Queries of the outfit-pair labelling queue: atomic claims with a lease, idempotent labels, undo, counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import PairCandidate, PairLabel, utcnow
from core.db.session import insert_ignore
from core.errors import StaleEditError, UnknownIdError

_PC = PairCandidate.__table__
_PL = PairLabel.__table__


def add_candidates(session: Session, workspace: str, rows: list[dict], labels_needed: int = 1) -> int:
    """Queue pairs (dicts with item_a, item_b, score, reason) in order; a pair already queued is left as is."""
    values = []
    for row in rows:
        a, b = sorted((str(row["item_a"]), str(row["item_b"])))
        values.append({
            "workspace": workspace, "item_a": a, "item_b": b, "score": row.get("score"),
            "reason": row.get("reason", ""), "labels_needed": labels_needed, "labels_count": 0, "status": "open",
        })
    inserted = 0
    for s in range(0, len(values), 500):  # keeps the bound-parameter count under SQLite's limit
        inserted += insert_ignore(session, PairCandidate, values[s:s + 500])
    return inserted


def queued_pairs(session: Session, workspace: str) -> set[tuple[str, str]]:
    """(item_a, item_b) of every pair ever queued in the workspace (item_a < item_b, as stored)."""
    return {(a, b) for a,
            b in session.execute(sa.select(_PC.c.item_a, _PC.c.item_b).where(_PC.c.workspace == workspace))}


def _claimable(workspace: str, labeller: str, now: datetime) -> sa.Select:
    """Open pairs needing labels, not leased to someone else, and not yet labelled by this person."""
    already = sa.select(_PL.c.id).where(_PL.c.pair_id == _PC.c.id, _PL.c.labeller == labeller).exists()
    return (
        sa.select(_PC.c.id)
        .where(
            _PC.c.workspace == workspace,
            _PC.c.status.in_(("open", "claimed")),
            _PC.c.labels_count < _PC.c.labels_needed,
            sa.or_(_PC.c.claimed_by.is_(None), _PC.c.claim_expires_at < now),
            ~already,
        )
        # pairs the model chose come before random ones queued while there was no model, oldest first
        .order_by(_PC.c.score.is_(None), _PC.c.id)
        .limit(1)
    )


_VIEW = (_PC.c.id, _PC.c.item_a, _PC.c.item_b, _PC.c.score, _PC.c.reason, _PC.c.claim_expires_at)


def current_claim(session: Session, workspace: str, labeller: str, now: datetime | None = None) -> dict | None:
    """The pair this person already holds an unexpired lease on (a rerun shows the same pair): id, item_a,
    item_b, score, reason, claim_expires_at."""
    now = now or utcnow()
    row = session.execute(
        sa.select(*_VIEW).where(
            _PC.c.workspace == workspace, _PC.c.claimed_by == labeller, _PC.c.status == "claimed",
            _PC.c.claim_expires_at >= now,
        ).order_by(_PC.c.id).limit(1)
    ).mappings().first()
    return dict(row) if row else None


def claim_next(session: Session, workspace: str, labeller: str, lease: timedelta,
               now: datetime | None = None) -> dict | None:
    """Lease the next open pair to `labeller` in one statement (the row as in current_claim); None when the
    queue is empty for them.

    PostgreSQL: the inner SELECT takes the row with FOR UPDATE SKIP LOCKED, so concurrent claimers get
    different rows. SQLite: the caller's BEGIN IMMEDIATE transaction already serialises writers.
    """
    now = now or utcnow()
    inner = _claimable(workspace, labeller, now)
    if session.get_bind().dialect.name == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    stmt = (
        sa.update(_PC)
        .where(_PC.c.id == inner.scalar_subquery())
        .values(claimed_by=labeller, claim_expires_at=now + lease, status="claimed")
        .returning(*_VIEW)
    )
    row = session.execute(stmt).mappings().first()
    return dict(row) if row else None


def write_label(session: Session, pair_id: int, labeller: str, label: str, request_id: str,
                now: datetime | None = None) -> bool:
    """Insert one label (ON CONFLICT DO NOTHING) and, when it is new, count it and free the pair's lease.

    Returns False for a replay (same request id) or a second label by the same person on the same pair.
    Raises StaleEditError when this person's lease ran out and the pair is now leased to someone else or has
    all its labels: a late label would otherwise give a k = 1 pair two labels. UnknownIdError: no such pair.
    """
    now = now or utcnow()
    replay = session.execute(sa.select(_PL.c.id).where(
        sa.or_(_PL.c.request_id == request_id,
               sa.and_(_PL.c.pair_id == pair_id, _PL.c.labeller == labeller))).limit(1)).first()
    if replay is not None:
        return False
    held_by_other = sa.and_(_PC.c.claimed_by.is_not(None), _PC.c.claimed_by != labeller, _PC.c.claim_expires_at >= now)
    check = sa.select(sa.case((held_by_other, 1), else_=0).label("held_by_other"),
                      (_PC.c.labels_count >= _PC.c.labels_needed).label("full")).where(_PC.c.id == pair_id)
    if session.get_bind().dialect.name == "postgresql":
        check = check.with_for_update()  # a concurrent claim skips this row until the label is in (SKIP LOCKED)
    row = session.execute(check).first()
    if row is None:
        raise UnknownIdError(f"pair {pair_id} is not in the queue: reload the page")
    if row.held_by_other or row.full:
        raise StaleEditError(f"pair {pair_id} went to another stylist after your lease ran out, so this label was "
                             "not saved: carry on with the next pair")
    inserted = insert_ignore(session, PairLabel,
                             {"pair_id": pair_id, "labeller": labeller, "label": label, "request_id": request_id})
    if not inserted:
        return False
    count = _PC.c.labels_count + 1
    session.execute(
        sa.update(_PC).where(_PC.c.id == pair_id).values(
            labels_count=count,
            status=sa.case((count >= _PC.c.labels_needed, "done"), else_="open"),
            claimed_by=None,
            claim_expires_at=None,
        )
    )
    return True


def release_claims(session: Session, workspace: str, labeller: str) -> int:
    """Hand back this person's unlabelled leases (they leave the page or skip)."""
    result = session.execute(
        sa.update(_PC).where(_PC.c.workspace == workspace, _PC.c.claimed_by == labeller, _PC.c.status == "claimed")
        .values(claimed_by=None, claim_expires_at=None, status="open")
    )
    return int(result.rowcount or 0)


def expire_claims(session: Session, workspace: str, now: datetime | None = None) -> int:
    """Return expired leases to the queue (claiming also ignores them; this keeps the status column honest)."""
    now = now or utcnow()
    result = session.execute(
        sa.update(_PC).where(_PC.c.workspace == workspace, _PC.c.status == "claimed", _PC.c.claim_expires_at < now)
        .values(claimed_by=None, claim_expires_at=None, status="open")
    )
    return int(result.rowcount or 0)


def undo_last(session: Session, workspace: str, labeller: str, lease: timedelta,
              now: datetime | None = None) -> int | None:
    """Delete this person's most recent label, uncount it and lease the pair back to them; its pair id or None."""
    now = now or utcnow()
    row = session.execute(
        sa.select(_PL.c.id, _PL.c.pair_id).join(_PC, _PC.c.id == _PL.c.pair_id)
        .where(_PC.c.workspace == workspace, _PL.c.labeller == labeller)
        .order_by(_PL.c.created_at.desc(), _PL.c.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    release_claims(session, workspace, labeller)  # the pair they were looking at goes back to the queue
    session.execute(sa.delete(_PL).where(_PL.c.id == row.id))
    session.execute(
        sa.update(_PC).where(_PC.c.id == row.pair_id).values(
            labels_count=sa.func.max(_PC.c.labels_count - 1, 0) if session.get_bind().dialect.name == "sqlite"
            else sa.func.greatest(_PC.c.labels_count - 1, 0),
            status="claimed", claimed_by=labeller, claim_expires_at=now + lease,
        )
    )
    return int(row.pair_id)


def pair(session: Session, pair_id: int) -> dict | None:
    row = session.execute(sa.select(_PC).where(_PC.c.id == pair_id)).mappings().first()
    return dict(row) if row else None


def labels(session: Session, workspace: str) -> list[dict]:
    """Every label of the workspace with its pair: pair_id, item_a, item_b, labeller, label, created_at."""
    rows = session.execute(
        sa.select(_PL.c.pair_id, _PC.c.item_a, _PC.c.item_b, _PL.c.labeller, _PL.c.label, _PL.c.created_at)
        .join(_PC, _PC.c.id == _PL.c.pair_id).where(_PC.c.workspace == workspace).order_by(_PL.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def queue_counts(session: Session, workspace: str) -> dict[str, int]:
    rows = session.execute(
        sa.select(_PC.c.status, sa.func.count()).where(_PC.c.workspace == workspace).group_by(_PC.c.status)
    ).all()
    return {status: int(n) for status, n in rows}


def remaining_for(session: Session, workspace: str, labeller: str) -> int:
    """Pairs that still need a label this person could give, leased to someone else or not (a claim that
    found nothing while others hold leases may find one once those are labelled or expire)."""
    already = sa.select(_PL.c.id).where(_PL.c.pair_id == _PC.c.id, _PL.c.labeller == labeller).exists()
    return int(session.execute(
        sa.select(sa.func.count()).select_from(_PC).where(
            _PC.c.workspace == workspace, _PC.c.status.in_(("open", "claimed")),
            _PC.c.labels_count < _PC.c.labels_needed, ~already)
    ).scalar() or 0)


def labeller_totals(session: Session, workspace: str, labeller: str, since: datetime) -> tuple[int, int]:
    """(labels since `since`, labels in all) of one person: two indexed counts instead of reading every label."""
    mine = (sa.select(sa.func.count(), sa.func.count(sa.case((_PL.c.created_at >= since, 1))))
            .select_from(_PL.join(_PC, _PC.c.id == _PL.c.pair_id))
            .where(_PC.c.workspace == workspace, _PL.c.labeller == labeller))
    total, today = session.execute(mine).one()
    return int(today or 0), int(total or 0)
