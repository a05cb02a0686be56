"""What the app shell asks before a page runs: the demo workspace on first launch, and whether writes are refused."""

from __future__ import annotations

from core.db.session import schema_refusal
from core.services.demo import create_demo

__all__ = ["create_demo", "schema_refusal"]
