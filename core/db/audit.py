"""Append-only audit log: who did what, when, to which target, in which workspace."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from core.db.models import AuditLog


def record(session: Session, who: str, action: str, workspace: str, target: str = "",
           details: dict[str, Any] | None = None) -> AuditLog:
    """Add one audit row inside the caller's transaction (it commits or rolls back with the decision)."""
    # Round-trip through JSON so numpy numbers, paths and timestamps are stored as plain values.
    plain = json.loads(json.dumps(dict(details or {}), default=_plain))
    row = AuditLog(who=who, action=action, workspace=workspace, target=str(target), details=plain)
    session.add(row)
    return row


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
