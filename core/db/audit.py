"""Append-only audit log: who did what, when, to which target, in which workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.db.models import AuditLog
from core.jsonable import to_plain


def record(session: Session, who: str, action: str, workspace: str, target: str = "",
           details: dict[str, Any] | None = None) -> AuditLog:
    """Add one audit row inside the caller's transaction (it commits or rolls back with the decision)."""
    plain = to_plain(dict(details or {}))
    row = AuditLog(who=who, action=action, workspace=workspace, target=str(target), details=plain)
    session.add(row)
    return row
